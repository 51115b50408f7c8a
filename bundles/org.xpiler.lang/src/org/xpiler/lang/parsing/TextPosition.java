package org.xpiler.lang.parsing;

/** Line and column (both from 1) of an offset in a text. */
record TextPosition(int line, int column) {

	static TextPosition of(String text, int offset) {
		int line = 1;
		int lineStart = 0;
		int end = Math.min(offset, text.length());
		for (int i = 0; i < end; i++) {
			if (text.charAt(i) == '\n') {
				line++;
				lineStart = i + 1;
			}
		}
		return new TextPosition(line, offset - lineStart + 1);
	}
}
