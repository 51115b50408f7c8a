package org.xpiler.core.vm;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The scalar element types kernels keep in buffers and registers. Half and bfloat16 are stored as their 16-bit
 * patterns and computed on as IEEE values with round-to-nearest-even at every store.
 */
public enum ElementType {
	BOOL(1, false, false), I8(1, false, true), U8(1, false, false), I16(2, false, true), U16(2, false, false),
	I32(4, false, true), U32(4, false, false), I64(8, false, true), U64(8, false, false), F16(2, true, true),
	BF16(2, true, true), F32(4, true, true), F64(8, true, true);

	private final int bytes;
	private final boolean floating;
	private final boolean signed;

	ElementType(int bytes, boolean floating, boolean signed) {
		this.bytes = bytes;
		this.floating = floating;
		this.signed = signed;
	}

	public int bytes() {
		return bytes;
	}

	public boolean isFloating() {
		return floating;
	}

	public boolean isSigned() {
		return signed;
	}

	public boolean isInteger() {
		return !floating;
	}

	/** The C spelling used in messages and generated code: {@code float}, {@code int8_t}, {@code half}. */
	public String cName() {
		return switch (this) {
		case BOOL -> "bool";
		case I8 -> "int8_t";
		case U8 -> "uint8_t";
		case I16 -> "int16_t";
		case U16 -> "uint16_t";
		case I32 -> "int32_t";
		case U32 -> "uint32_t";
		case I64 -> "int64_t";
		case U64 -> "uint64_t";
		case F16 -> "half";
		case BF16 -> "bfloat16";
		case F32 -> "float";
		case F64 -> "double";
		};
	}

	private static final Map<String, ElementType> C_NAMES = Map.ofEntries(Map.entry("bool", BOOL),
			Map.entry("char", I8), Map.entry("signed char", I8), Map.entry("unsigned char", U8), Map.entry("int8_t", I8),
			Map.entry("uint8_t", U8), Map.entry("int8", I8), Map.entry("fix8", I8), Map.entry("short", I16),
			Map.entry("short int", I16), Map.entry("signed short", I16), Map.entry("unsigned short", U16),
			Map.entry("unsigned short int", U16), Map.entry("int16_t", I16), Map.entry("int16", I16),
			Map.entry("uint16_t", U16), Map.entry("int", I32), Map.entry("signed", I32), Map.entry("signed int", I32),
			Map.entry("unsigned", U32), Map.entry("unsigned int", U32), Map.entry("int32_t", I32),
			Map.entry("uint32_t", U32), Map.entry("long", I64), Map.entry("long int", I64),
			Map.entry("signed long", I64), Map.entry("unsigned long", U64), Map.entry("unsigned long int", U64),
			Map.entry("long long", I64), Map.entry("long long int", I64), Map.entry("signed long long", I64),
			Map.entry("unsigned long long", U64), Map.entry("unsigned long long int", U64), Map.entry("int64_t", I64),
			Map.entry("uint64_t", U64), Map.entry("size_t", U64), Map.entry("half", F16), Map.entry("__half", F16),
			Map.entry("_Float16", F16), Map.entry("bfloat16_t", BF16), Map.entry("__nv_bfloat16", BF16),
			Map.entry("nv_bfloat16", BF16), Map.entry("__hip_bfloat16", BF16), Map.entry("hip_bfloat16", BF16),
			Map.entry("bfloat16", BF16), Map.entry("float", F32), Map.entry("double", F64),
			Map.entry("long double", F64), Map.entry("__mmask8", U8), Map.entry("__mmask16", U16),
			Map.entry("__mmask32", U32), Map.entry("__mmask64", U64));

	/** The element type a C type name denotes ({@code unsigned int}, {@code int8_t}, {@code __half}). */
	public static Optional<ElementType> ofCName(String name) {
		return Optional.ofNullable(C_NAMES.get(name.trim().replaceAll("\\s+", " ")));
	}

	/** {@code float}, {@code f32}, {@code int8_t}, {@code i8}, ... as users type them. */
	public static Optional<ElementType> parse(String text) {
		String t = text.trim().toLowerCase(Locale.ROOT);
		for (ElementType type : values()) {
			if (type.name().toLowerCase(Locale.ROOT).equals(t)) {
				return Optional.of(type);
			}
		}
		return ofCName(text);
	}
}
