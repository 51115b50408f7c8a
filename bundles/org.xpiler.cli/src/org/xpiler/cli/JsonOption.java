package org.xpiler.cli;

import java.io.PrintWriter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import picocli.CommandLine.Option;

/** The {@code --json} switch shared by every subcommand that has a machine-readable answer. */
public class JsonOption {
	private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

	@Option(names = "--json", description = "Print the result as JSON for scripts instead of text.")
	boolean json;

	public boolean enabled() {
		return json;
	}

	public static ObjectMapper mapper() {
		return MAPPER;
	}

	public static void print(PrintWriter out, Object value) {
		try {
			out.println(MAPPER.writeValueAsString(value));
		} catch (JsonProcessingException e) {
			throw new IllegalStateException("cannot write JSON for " + value.getClass().getSimpleName(), e);
		}
	}
}
