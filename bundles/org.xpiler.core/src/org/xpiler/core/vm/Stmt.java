package org.xpiler.core.vm;

/** A compiled statement; {@link #exec} says how control leaves it. */
interface Stmt {
	int NORMAL = 0;
	int BREAK = 1;
	int CONTINUE = 2;
	int RETURN = 3;

	int exec(Frame f);
}
