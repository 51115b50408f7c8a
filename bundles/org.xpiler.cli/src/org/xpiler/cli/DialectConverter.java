package org.xpiler.cli;

import java.util.Arrays;
import java.util.stream.Collectors;

import org.xpiler.lang.dialect.Dialect;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a dialect id ({@code cuda}, {@code hip}, {@code bang}, {@code vnni}) from the command line. */
class DialectConverter implements ITypeConverter<Dialect> {
	@Override
	public Dialect convert(String value) {
		return Dialect.fromId(value).orElseThrow(() -> new TypeConversionException("unknown dialect '" + value
				+ "' (known: " + Arrays.stream(Dialect.values()).map(Dialect::id).collect(Collectors.joining(", "))
				+ ")"));
	}
}
