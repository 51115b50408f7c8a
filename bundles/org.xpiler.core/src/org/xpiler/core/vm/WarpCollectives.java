package org.xpiler.core.vm;

import java.util.List;

/**
 * Warp shuffles and votes ({@code __shfl_down_sync}, {@code __ballot_sync}, HIP's {@code __shfl_xor}, ...):
 * every live lane of the warp deposits its value, and each reads what its source lane deposited. Width
 * subdivides the warp as CUDA and HIP define it.
 */
final class WarpCollectives {
	private WarpCollectives() {
	}

	static Ex of(String name, List<Ex> args, ExpressionCompiler ec, Program program, int site) {
		boolean sync = name.endsWith("_sync");
		String base = sync ? name.substring(0, name.length() - "_sync".length()) : name;
		List<Ex> operands = sync ? args.subList(1, args.size()) : args; // the mask is not needed: all live lanes take part
		return switch (base) {
		case "__shfl", "__shfl_up", "__shfl_down", "__shfl_xor" -> shuffle(base, operands, ec, site);
		case "__ballot", "__any", "__all" -> vote(base, operands, ec, program, site);
		default -> null;
		};
	}

	private static Ex shuffle(String kind, List<Ex> operands, ExpressionCompiler ec, int site) {
		if (operands.size() < 2) {
			return null;
		}
		Ex value = operands.get(0);
		Ex selector = ec.convert(operands.get(1), VmType.I32);
		Ex width = operands.size() > 2 ? ec.convert(operands.get(2), VmType.I32) : null;
		VmType type = value.type;
		Gang.WarpOperation operation = (lane, values, active, parameter) -> {
			int w = (int) (parameter >>> 32);
			int s = (int) parameter;
			int segment = lane / w * w;
			int source = switch (kind) {
			case "__shfl" -> segment + Math.floorMod(s, w);
			case "__shfl_up" -> lane - segment >= s ? lane - s : lane;
			case "__shfl_down" -> lane - segment + s < w ? lane + s : lane;
			default -> (lane ^ s) < segment + w && (lane ^ s) >= segment ? lane ^ s : lane;
			};
			return source < values.length && active[source] ? values[source] : values[lane];
		};
		return new Ex(type) {
			private long exchange(Frame f, long bits) {
				Lane lane = f.lane;
				int w = width == null ? lane.warpSize : (int) width.l(f);
				long parameter = (long) w << 32 | (selector.l(f) & 0xFFFFFFFFL);
				if (lane.gang == null) {
					return bits; // a lone lane reads itself
				}
				return lane.gang.collective(lane, bits, parameter, operation, lane.warpSize, site);
			}

			@Override
			long l(Frame f) {
				return exchange(f, value.l(f));
			}

			@Override
			double d(Frame f) {
				return Double.longBitsToDouble(exchange(f, Double.doubleToRawLongBits(value.d(f))));
			}
		};
	}

	private static Ex vote(String kind, List<Ex> operands, ExpressionCompiler ec, Program program, int site) {
		if (operands.isEmpty()) {
			return null;
		}
		Ex predicate = ec.truth(operands.get(0));
		boolean wide = program.dialect == org.xpiler.lang.dialect.Dialect.HIP;
		VmType type = kind.equals("__ballot") ? (wide ? VmType.U64 : VmType.U32) : VmType.I32;
		Gang.WarpOperation operation = (lane, values, active, parameter) -> {
			long mask = 0;
			boolean any = false;
			boolean all = true;
			for (int k = 0; k < values.length; k++) {
				if (active[k]) {
					boolean p = values[k] != 0;
					mask |= p ? 1L << k : 0;
					any |= p;
					all &= p;
				}
			}
			return switch (kind) {
			case "__ballot" -> mask;
			case "__any" -> any ? 1 : 0;
			default -> all ? 1 : 0;
			};
		};
		return new Ex(type) {
			@Override
			long l(Frame f) {
				Lane lane = f.lane;
				long p = predicate.l(f);
				if (lane.gang == null) {
					return p;
				}
				return lane.gang.collective(lane, p, 0, operation, lane.warpSize, site);
			}
		};
	}
}
