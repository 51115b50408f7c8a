package org.xpiler.lang.validation;

import java.util.Map;

/** One name per element type, so that {@code int}, {@code int32_t} and BANG's {@code int32} compare equal. */
final class ElementTypes {
	private static final Map<String, String> CANONICAL = Map.ofEntries(Map.entry("int", "int32_t"),
			Map.entry("signed int", "int32_t"), Map.entry("signed", "int32_t"), Map.entry("unsigned int", "uint32_t"),
			Map.entry("unsigned", "uint32_t"), Map.entry("short", "int16_t"), Map.entry("short int", "int16_t"),
			Map.entry("unsigned short", "uint16_t"), Map.entry("unsigned short int", "uint16_t"),
			Map.entry("signed char", "int8_t"), Map.entry("char", "int8_t"), Map.entry("unsigned char", "uint8_t"),
			Map.entry("long", "int64_t"), Map.entry("long long", "int64_t"), Map.entry("unsigned long", "uint64_t"),
			Map.entry("unsigned long long", "uint64_t"), Map.entry("int8", "int8_t"), Map.entry("fix8", "int8_t"),
			Map.entry("int16", "int16_t"), Map.entry("__half", "half"));

	private ElementTypes() {
	}

	static String canonical(String type) {
		String bare = type.replace("const", "").replace("volatile", "").strip();
		return CANONICAL.getOrDefault(bare, bare);
	}
}
