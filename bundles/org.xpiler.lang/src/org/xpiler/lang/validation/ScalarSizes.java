package org.xpiler.lang.validation;

import java.util.Map;

/** Sizes in bytes of the scalar and vector types kernels declare arrays of (LP64, as all four targets). */
final class ScalarSizes {
	private static final Map<String, Integer> BYTES = Map.ofEntries(
			Map.entry("char", 1), Map.entry("signed char", 1), Map.entry("unsigned char", 1), Map.entry("bool", 1),
			Map.entry("short", 2), Map.entry("short int", 2), Map.entry("unsigned short", 2),
			Map.entry("unsigned short int", 2), Map.entry("signed short", 2), Map.entry("int", 4),
			Map.entry("signed", 4), Map.entry("unsigned", 4), Map.entry("unsigned int", 4), Map.entry("signed int", 4),
			Map.entry("long", 8), Map.entry("long int", 8), Map.entry("unsigned long", 8), Map.entry("long long", 8),
			Map.entry("unsigned long long", 8), Map.entry("float", 4), Map.entry("double", 8), Map.entry("half", 2),
			Map.entry("__half", 2), Map.entry("__nv_bfloat16", 2), Map.entry("bfloat16_t", 2),
			Map.entry("__hip_bfloat16", 2), Map.entry("size_t", 8), Map.entry("int8_t", 1), Map.entry("uint8_t", 1),
			Map.entry("int16_t", 2), Map.entry("uint16_t", 2), Map.entry("int32_t", 4), Map.entry("uint32_t", 4),
			Map.entry("int64_t", 8), Map.entry("uint64_t", 8), Map.entry("int8", 1), Map.entry("int16", 2),
			Map.entry("fix8", 1), Map.entry("__m128", 16), Map.entry("__m128i", 16), Map.entry("__m128d", 16),
			Map.entry("__m256", 32), Map.entry("__m256i", 32), Map.entry("__m256d", 32), Map.entry("__m512", 64),
			Map.entry("__m512i", 64), Map.entry("__m512d", 64));

	private ScalarSizes() {
	}

	/** The size of a type by name, or null when it is not a known scalar or vector type. */
	static Integer bytes(String type) {
		return BYTES.get(type);
	}
}
