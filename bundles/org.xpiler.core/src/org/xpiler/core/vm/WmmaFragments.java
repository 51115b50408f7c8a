package org.xpiler.core.vm;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.TemplateArgument;

/**
 * CUDA's warp matrix operations ({@code nvcuda::wmma}, shape m16n16k16): fragments hold whole tiles, loads
 * and {@code mma_sync} compute per lane (the lanes of a warp get identical results, so each warp's later lanes
 * reuse the first lane's product), and only lane 0 of a warp stores, so the warp-wide store is one store for
 * the race detector. Element (r, c) of a row-major tile is {@code mptr[r * ldm + c]}, of a column-major one
 * {@code mptr[c * ldm + r]}.
 */
final class WmmaFragments {
	private WmmaFragments() {
	}

	static boolean isFragment(String name) {
		return name.equals("fragment") || name.endsWith("wmma::fragment");
	}

	/** {@code wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major>} as a tile type. */
	static VmType fragmentType(NamedType named, Types types, Map<String, VmType> bindings) {
		List<TemplateArgument> args = named.getTemplateArgs();
		if (args.size() < 5) {
			throw new UnsupportedOperationException("a wmma::fragment takes <use, m, n, k, T[, layout]>");
		}
		String use = unqualified(types.typeNameText(args.get(0)));
		int m = (int) types.templateValue(args.get(1), bindings);
		int n = (int) types.templateValue(args.get(2), bindings);
		int k = (int) types.templateValue(args.get(3), bindings);
		VmType element = types.typeName(args.get(4).getType(), bindings);
		boolean columnMajor = args.size() > 5 && unqualified(types.typeNameText(args.get(5))).equals("col_major");
		if (m != 16 || n != 16 || k != 16) {
			throw new UnsupportedOperationException("wmma shape m" + m + "n" + n + "k" + k
					+ " is not modelled by the virtual device (m16n16k16 is)");
		}
		return switch (use) {
		case "matrix_a" -> new VmType.Fragment(use, m, k, ((VmType.Scalar) element).element(), columnMajor);
		case "matrix_b" -> new VmType.Fragment(use, k, n, ((VmType.Scalar) element).element(), columnMajor);
		case "accumulator" -> new VmType.Fragment(use, m, n, ((VmType.Scalar) element).element(), false);
		default -> throw new UnsupportedOperationException("unknown wmma fragment use '" + use + "'");
		};
	}

	private static String unqualified(String name) {
		return name.substring(name.lastIndexOf(':') + 1);
	}

	/** {@code frag.x}: the fragment's elements as an indexable array. */
	static Lv elements(Lv fragment, VmType.Fragment type) {
		return new Lv(type.asVector()) {
			@Override
			long prepare(Frame f) {
				return fragment.prepare(f);
			}

			@Override
			Object getO(Frame f, long place) {
				return fragment.getO(f, place);
			}

			@Override
			void setO(Frame f, long place, Object value) {
				fragment.setO(f, place, value);
			}
		};
	}

	static Ex call(String written, List<Expression> models, ExpressionCompiler ec, Program program, int site) {
		String name = written.replace("nvcuda::", "").replace("wmma::", "");
		if (!written.contains("wmma::") && program.catalog.function("wmma::" + name).isEmpty()) {
			return null;
		}
		return switch (name) {
		case "fill_fragment" -> fill(ec.lvalue(models.get(0)), ec.compile(models.get(1)), ec);
		case "load_matrix_sync" -> load(ec.lvalue(models.get(0)), ec.compile(models.get(1)),
				ec.convert(ec.compile(models.get(2)), VmType.I64),
				models.size() > 3 ? ec.convert(ec.compile(models.get(3)), VmType.I64) : null, program, site);
		case "store_matrix_sync" -> store(ec.compile(models.get(0)), ec.compile(models.get(1)),
				ec.convert(ec.compile(models.get(2)), VmType.I64), ec.convert(ec.compile(models.get(3)), VmType.I64),
				program, site);
		case "mma_sync" -> multiplyAccumulate(ec.lvalue(models.get(0)), ec.compile(models.get(1)),
				ec.compile(models.get(2)), ec.compile(models.get(3)));
		default -> null;
		};
	}

	private static VmType.Fragment fragment(VmType type) {
		if (!(type instanceof VmType.Fragment fragment)) {
			throw new CompileError(Site.UNKNOWN, "a wmma::fragment is expected here, not " + type.display());
		}
		return fragment;
	}

	private static Ex fill(Lv target, Ex value, ExpressionCompiler ec) {
		VmType.Fragment shape = fragment(target.type);
		Ex v = ec.convert(value, VmType.of(shape.element()));
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				byte[] tile = new byte[shape.size()];
				double x = v.d(f);
				for (int i = 0; i < shape.rows() * shape.cols(); i++) {
					MemoryPlace.writeFloating(shape.element(), tile, i * shape.element().bytes(), x);
				}
				target.setO(f, target.prepare(f), tile);
				return 0;
			}
		};
	}

	private static Ex load(Lv target, Ex pointer, Ex ldm, Ex layout, Program program, int site) {
		VmType.Fragment shape = fragment(target.type);
		ElementType source = ((VmType.Scalar) VmType.pointee(pointer.type)).element();
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				long base = pointer.l(f);
				long stride = ldm.l(f);
				checkLeadingDimension(stride, source, f, program, site);
				boolean columnMajor = layout != null ? layout.l(f) == 1 : shape.columnMajor();
				byte[] tile = new byte[shape.size()];
				for (int r = 0; r < shape.rows(); r++) {
					for (int c = 0; c < shape.cols(); c++) {
						long index = columnMajor ? c * stride + r : r * stride + c;
						double value = f.memory.loadFloating(source, base + index * source.bytes(), site);
						MemoryPlace.writeFloating(shape.element(), tile, (r * shape.cols() + c) * shape.element().bytes(), value);
					}
				}
				target.setO(f, target.prepare(f), tile);
				return 0;
			}
		};
	}

	private static Ex store(Ex pointer, Ex fragment, Ex ldm, Ex layout, Program program, int site) {
		VmType.Fragment shape = fragment(fragment.type);
		ElementType destination = ((VmType.Scalar) VmType.pointee(pointer.type)).element();
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				long base = pointer.l(f);
				long stride = ldm.l(f);
				checkLeadingDimension(stride, destination, f, program, site);
				byte[] tile = (byte[]) fragment.o(f);
				if (f.lane.kind == Lane.Kind.SIMT && f.lane.laneInWarp() != 0) {
					return 0; // the warp stores once
				}
				boolean columnMajor = layout.l(f) == 1;
				for (int r = 0; r < shape.rows(); r++) {
					for (int c = 0; c < shape.cols(); c++) {
						long index = columnMajor ? c * stride + r : r * stride + c;
						double value = MemoryPlace.readFloating(shape.element(), tile, (r * shape.cols() + c) * shape.element().bytes());
						f.memory.storeFloating(destination, base + index * destination.bytes(), value, site);
					}
				}
				return 0;
			}
		};
	}

	private static void checkLeadingDimension(long ldm, ElementType element, Frame f, Program program, int site) {
		int multiple = 16 / element.bytes();
		if (ldm % multiple != 0) {
			throw new VmError(program.site(site), f.lane.describe(), "ldm = " + ldm + " must be a multiple of " + multiple
					+ " for " + element.cName() + " (16 bytes)");
		}
	}

	/** The last product computed, so the other lanes of the warp reuse it. */
	private static final class LastProduct {
		byte[] a;
		byte[] b;
		byte[] c;
		byte[] d;
	}

	private static Ex multiplyAccumulate(Lv target, Ex a, Ex b, Ex c) {
		VmType.Fragment ta = fragment(a.type);
		VmType.Fragment tb = fragment(b.type);
		VmType.Fragment tc = fragment(c.type);
		VmType.Fragment td = fragment(target.type);
		LastProduct last = new LastProduct();
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				byte[] x = (byte[]) a.o(f);
				byte[] y = (byte[]) b.o(f);
				byte[] z = (byte[]) c.o(f);
				byte[] result;
				if (last.d != null && Arrays.equals(x, last.a) && Arrays.equals(y, last.b) && Arrays.equals(z, last.c)) {
					result = last.d.clone();
				} else {
					result = new byte[td.size()];
					for (int i = 0; i < ta.rows(); i++) {
						for (int j = 0; j < tb.cols(); j++) {
							float acc = (float) MemoryPlace.readFloating(tc.element(), z, (i * tc.cols() + j) * tc.element().bytes());
							for (int k = 0; k < ta.cols(); k++) {
								double p = MemoryPlace.readFloating(ta.element(), x, (i * ta.cols() + k) * ta.element().bytes())
										* MemoryPlace.readFloating(tb.element(), y, (k * tb.cols() + j) * tb.element().bytes());
								acc = (float) (acc + p);
							}
							MemoryPlace.writeFloating(td.element(), result, (i * td.cols() + j) * td.element().bytes(), acc);
						}
					}
					last.a = x.clone();
					last.b = y.clone();
					last.c = z.clone();
					last.d = result.clone();
				}
				target.setO(f, target.prepare(f), result);
				return 0;
			}
		};
	}
}
