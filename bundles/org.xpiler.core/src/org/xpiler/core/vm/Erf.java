package org.xpiler.core.vm;

/**
 * The error function in double precision, which java.lang.Math lacks: the Maclaurin series near zero and a
 * continued fraction for erfc beyond, both accurate to about 1e-15, so erff rounds correctly almost always.
 */
final class Erf {
	private Erf() {
	}

	static double erf(double x) {
		if (Double.isNaN(x)) {
			return x;
		}
		double a = Math.abs(x);
		double result;
		if (a < 2.5) {
			// erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
			double term = a;
			double sum = a;
			double a2 = a * a;
			for (int n = 1; n < 200; n++) {
				term *= -a2 / n;
				double add = term / (2 * n + 1);
				sum += add;
				if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
					break;
				}
			}
			result = 2 / Math.sqrt(Math.PI) * sum;
		} else if (a > 6) {
			result = 1;
		} else {
			result = 1 - erfcContinuedFraction(a);
		}
		return x < 0 ? -result : result;
	}

	/** erfc(x) for x >= 2.5 by Lentz's evaluation of the continued fraction. */
	private static double erfcContinuedFraction(double x) {
		// erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
		double tiny = 1e-300;
		double f = x;
		double c = x;
		double d = 0;
		for (int n = 1; n < 500; n++) {
			double an = n / 2.0;
			d = x + an * d;
			d = Math.abs(d) < tiny ? tiny : d;
			c = x + an / c;
			c = Math.abs(c) < tiny ? tiny : c;
			d = 1 / d;
			double delta = c * d;
			f *= delta;
			if (Math.abs(delta - 1) < 1e-16) {
				break;
			}
		}
		return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
	}
}
