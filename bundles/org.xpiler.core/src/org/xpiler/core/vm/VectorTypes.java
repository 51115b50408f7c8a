package org.xpiler.core.vm;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * CUDA's and HIP's vector structs ({@code float4}, {@code int2}, ...): lanes {@code x, y, z, w} of one element
 * type, aligned as the toolkits declare them, and built by {@code make_float4(x, y, z, w)} and its kin.
 */
public final class VectorTypes {
	/** A vector struct: its element type, its lanes and its alignment in bytes. */
	public record Vector(String name, ElementType element, int lanes, int alignment) {
		VmType.Struct struct() {
			return VmType.Struct.ofLanes(name, element, lanes, alignment);
		}
	}

	private static final Map<String, Vector> VECTORS = Map.ofEntries(vector("float2", ElementType.F32, 2, 8),
			vector("float3", ElementType.F32, 3, 4), vector("float4", ElementType.F32, 4, 16),
			vector("double2", ElementType.F64, 2, 16), vector("int2", ElementType.I32, 2, 8),
			vector("int3", ElementType.I32, 3, 4), vector("int4", ElementType.I32, 4, 16),
			vector("uint2", ElementType.U32, 2, 8), vector("uint3", ElementType.U32, 3, 4),
			vector("uint4", ElementType.U32, 4, 16), vector("char4", ElementType.I8, 4, 4),
			vector("uchar4", ElementType.U8, 4, 4), vector("short2", ElementType.I16, 2, 4));

	/** The prefix of the constructors: {@code make_float4}. */
	public static final String MAKE = "make_";

	private VectorTypes() {
	}

	private static Map.Entry<String, Vector> vector(String name, ElementType element, int lanes, int alignment) {
		return Map.entry(name, new Vector(name, element, lanes, alignment));
	}

	public static Optional<Vector> named(String name) {
		return Optional.ofNullable(VECTORS.get(name));
	}

	/** The vector a constructor such as {@code make_float4} builds. */
	public static Optional<Vector> madeBy(String function) {
		return function.startsWith(MAKE) ? named(function.substring(MAKE.length())) : Optional.empty();
	}

	public static Set<String> names() {
		return VECTORS.keySet();
	}
}
