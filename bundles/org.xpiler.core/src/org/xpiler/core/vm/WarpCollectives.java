package org.xpiler.core.vm;

import java.util.List;

/**
 * Warp shuffles and votes ({@code __shfl_down_sync}, {@code __ballot_sync}, HIP's {@code __shfl_xor}, ...):
 * every live lane of the warp deposits its value, and each reads what its source lane deposited. Width
 * subdivides the warp as CUDA and HIP define it.
 */
final class WarpCollectives {
	/** HIP's wave-wide 16x16x4 float matrix multiply-accumulate on the matrix cores. */
	static final String MFMA = "__builtin_amdgcn_mfma_f32_16x16x4f32";

	private WarpCollectives() {
	}

	static Ex of(String name, List<Ex> args, ExpressionCompiler ec, Program program, int site) {
		if (name.equals(MFMA)) {
			return matrixFma(args, ec, program, site);
		}
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
			// a lane of a later group reads itself, one of an earlier group may be read (PTX shfl.bfly, HIP __shfl_xor)
			default -> (lane ^ s) < segment + w && (lane ^ s) >= 0 ? lane ^ s : lane;
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

	/**
	 * {@code __builtin_amdgcn_mfma_f32_16x16x4f32(a, b, c, 0, 0, 0)}: lane l gives A[l % 16][l / 16] in a and
	 * B[l / 16][l % 16] in b, and holds rows 4 * (l / 16) .. + 3 of column l % 16 of C and D. Four collectives
	 * (one per result register) exchange the a and b of the whole wavefront.
	 */
	private static Ex matrixFma(List<Ex> args, ExpressionCompiler ec, Program program, int site) {
		if (args.size() != 6 || !(args.get(2).type instanceof VmType.Vector accumulator) || accumulator.bytes() != 16) {
			throw new CompileError(program.site(site), MFMA + " takes (float a, float b, a 4-float vector c, 0, 0, 0)");
		}
		for (int i = 3; i < 6; i++) {
			Long control = args.get(i).constant();
			if (control == null || control != 0) {
				throw new CompileError(program.site(site),
						"only cbsz = abid = blgp = 0 (no broadcast, no permutation) is modelled");
			}
		}
		Ex a = ec.convert(args.get(0), VmType.F32);
		Ex b = ec.convert(args.get(1), VmType.F32);
		Ex c = args.get(2);
		VmType.Vector result = accumulator.viewedAs(ElementType.F32);
		Gang.WarpOperation operation = (lane, values, active, parameter) -> {
			int r = (int) (parameter >>> 32);
			int i = 4 * (lane / 16) + r;
			int j = lane % 16;
			float acc = Float.intBitsToFloat((int) parameter);
			for (int k = 0; k < 4; k++) {
				int laneOfA = i + 16 * k;
				int laneOfB = j + 16 * k;
				float x = laneOfA < values.length && active[laneOfA] ? Float.intBitsToFloat((int) (values[laneOfA] >>> 32)) : 0;
				float y = laneOfB < values.length && active[laneOfB] ? Float.intBitsToFloat((int) values[laneOfB]) : 0;
				acc = (float) (acc + (double) x * y);
			}
			return Float.floatToRawIntBits(acc) & 0xFFFFFFFFL;
		};
		return new Ex(result) {
			@Override
			Object o(Frame f) {
				Lane lane = f.lane;
				long packed = (long) Float.floatToRawIntBits((float) a.d(f)) << 32
						| Float.floatToRawIntBits((float) b.d(f)) & 0xFFFFFFFFL;
				byte[] in = (byte[]) c.o(f);
				byte[] out = new byte[16];
				for (int r = 0; r < 4; r++) {
					float cr = (float) MemoryPlace.readFloating(ElementType.F32, in, 4 * r);
					long parameter = (long) r << 32 | Float.floatToRawIntBits(cr) & 0xFFFFFFFFL;
					long bits;
					if (lane.gang == null) {
						long[] values = new long[lane.warpSize];
						boolean[] active = new boolean[lane.warpSize];
						values[lane.laneInWarp()] = packed;
						active[lane.laneInWarp()] = true;
						bits = operation.result(lane.laneInWarp(), values, active, parameter);
					} else {
						bits = lane.gang.collective(lane, packed, parameter, operation, lane.warpSize, site);
					}
					MemoryPlace.writeFloating(ElementType.F32, out, 4 * r, Float.intBitsToFloat((int) bits));
				}
				return out;
			}
		};
	}
}
