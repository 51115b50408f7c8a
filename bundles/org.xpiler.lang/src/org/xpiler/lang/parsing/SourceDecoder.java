package org.xpiler.lang.parsing;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.diagnostics.Diagnostic.Severity;

/**
 * Turns the bytes of a kernel file into text, or into a diagnostic that points at the first byte that is not
 * UTF-8 (kernels are ASCII in practice; a Latin-1 comment or a binary file must not crash anything).
 */
final class SourceDecoder {
	private SourceDecoder() {
	}

	/** Either the text or the diagnostic that says why there is none. */
	record Decoded(String text, Diagnostic problem) {
		static Decoded text(String text) {
			return new Decoded(text, null);
		}

		static Decoded problem(Diagnostic problem) {
			return new Decoded(null, problem);
		}
	}

	static Decoded decode(String file, byte[] bytes) {
		CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
				.onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT);
		ByteBuffer in = ByteBuffer.wrap(bytes);
		CharBuffer out = CharBuffer.allocate(bytes.length + 1);
		CoderResult result = decoder.decode(in, out, true);
		if (result.isError()) {
			return Decoded.problem(badByte(file, bytes, in.position()));
		}
		decoder.flush(out);
		out.flip();
		String text = out.toString();
		int nul = text.indexOf('\0');
		if (nul >= 0) {
			return Decoded.problem(
					at(file, text, nul, "the file contains a NUL character: it is binary, not kernel source"));
		}
		return Decoded.text(text.startsWith("\uFEFF") ? text.substring(1) : text);
	}

	private static Diagnostic badByte(String file, byte[] bytes, int offset) {
		String before;
		try {
			before = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, 0, offset)).toString();
		} catch (CharacterCodingException e) {
			before = "";
		}
		return at(file, before, before.length(), String.format(
				"byte 0x%02X is not valid UTF-8: save the file as UTF-8 (or ASCII)", bytes[offset] & 0xFF));
	}

	private static Diagnostic at(String file, String text, int offset, String message) {
		TextPosition position = TextPosition.of(text, offset);
		return new Diagnostic(file, position.line(), position.column(), Severity.ERROR, message, "encoding");
	}
}
