package org.xpiler.core.vm;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;

import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.core.vm.FunctionCompiler.Storage;
import org.xpiler.core.vm.FunctionCompiler.Var;
import org.xpiler.core.vm.VmType.Scalar;
import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BoolLiteral;
import org.xpiler.lang.kernel.BuiltinTypeConstruction;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CharLiteral;
import org.xpiler.lang.kernel.CommaExpression;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NullLiteral;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.StringLiteral;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.Unary;

/**
 * Compiles expressions to typed closures with C's semantics: the usual arithmetic conversions, integer
 * wrap-around, floating results rounded to their type after each operation, pointer arithmetic in elements,
 * short-circuit logic, and checked integer division.
 */
final class ExpressionCompiler {
	private final FunctionCompiler fc;
	private final Program program;
	final Calls calls;

	ExpressionCompiler(FunctionCompiler fc) {
		this.fc = fc;
		this.program = fc.program;
		this.calls = new Calls(fc, this);
	}

	CompileError error(Expression at, String message) {
		return new CompileError(program.site(program.site(at)), message);
	}

	static String text(org.eclipse.emf.ecore.EObject node) {
		var n = NodeModelUtils.findActualNodeFor(node);
		return n == null ? "?" : NodeModelUtils.getTokenText(n);
	}

	Ex compile(Expression e) {
		return switch (e) {
		case IntLiteral literal -> integerLiteral(literal.getValue());
		case FloatLiteral literal -> floatLiteral(literal.getValue());
		case CharLiteral literal -> Ex.constant(VmType.I32, charValue(literal.getValue()));
		case BoolLiteral literal -> Ex.constant(VmType.BOOL, "true".equals(literal.getValue()) ? 1 : 0);
		case NullLiteral n -> Ex.constant(VmType.VOID_POINTER, 0L);
		case Parenthesized p -> compile(p.getExpression());
		case Name name -> name(name);
		case Binary binary -> binary(binary);
		case Unary unary -> unary(unary);
		case Postfix postfix -> increment(lvalue(postfix.getOperand()), postfix.getOp().equals("++") ? 1 : -1, true,
				program.site(postfix));
		case Assignment assignment -> assignment(assignment);
		case Conditional conditional -> conditional(conditional);
		case Cast cast -> convert(compile(cast.getOperand()), program.types.typeName(cast.getType(), fc.bindings));
		case CxxCast cast -> convert(compile(cast.getOperand()), program.types.typeName(cast.getType(), fc.bindings));
		case BuiltinTypeConstruction construction -> construction(construction);
		case SizeOf sizeOf -> Ex.constant(VmType.U64, (long) sizeOfOperand(sizeOf).size());
		case Index index -> lvalue(index).read();
		case MemberAccess access -> memberAccess(access);
		case Call call -> calls.call(call);
		case TemplateCall call -> calls.templateCall(call);
		case KernelLaunch launch -> calls.launch(launch);
		case CommaExpression comma -> comma(comma);
		case StringLiteral s -> throw error(e, "string literals are only understood as printf formats by the virtual device");
		default -> throw error(e, "the expression '" + text(e) + "' is not supported by the virtual device");
		};
	}

	// ---------------------------------------------------------------- literals

	static Ex integerLiteral(String written) {
		String digits = written.replaceAll("[uUlL]+$", "");
		String suffix = written.substring(digits.length()).toLowerCase();
		boolean hex = digits.startsWith("0x") || digits.startsWith("0X");
		long value = hex ? Long.parseUnsignedLong(digits.substring(2), 16)
				: digits.length() > 1 && digits.startsWith("0") ? Long.parseUnsignedLong(digits.substring(1), 8)
						: Long.parseUnsignedLong(digits);
		boolean unsigned = suffix.contains("u");
		boolean isLong = suffix.contains("l");
		VmType type;
		if (!isLong && !unsigned && value >= 0 && value <= Integer.MAX_VALUE) {
			type = VmType.I32;
		} else if (!isLong && (unsigned || hex) && value >= 0 && value <= 0xFFFFFFFFL) {
			type = VmType.U32;
		} else if (!unsigned && value >= 0) {
			type = VmType.I64;
		} else {
			type = VmType.U64;
		}
		return Ex.constant(type, value);
	}

	private static Ex floatLiteral(String written) {
		boolean single = written.endsWith("f") || written.endsWith("F");
		String number = written.replaceAll("[fFlL]$", "");
		double value = Double.parseDouble(number);
		return single ? Ex.constant(VmType.F32, (double) (float) value) : Ex.constant(VmType.F64, value);
	}

	private static long charValue(String written) {
		String body = written.substring(1, written.length() - 1);
		if (!body.startsWith("\\")) {
			return body.charAt(0);
		}
		return switch (body.charAt(1)) {
		case 'n' -> '\n';
		case 't' -> '\t';
		case 'r' -> '\r';
		case '0' -> 0;
		case '\\' -> '\\';
		case '\'' -> '\'';
		default -> body.charAt(1);
		};
	}

	// ---------------------------------------------------------------- names

	private static final String CUDA_NAMESPACE = "nvcuda::";

	private Ex name(Name name) {
		String id = name.getName();
		if (!fc.macroArguments.isEmpty() && fc.macroArguments.peek().containsKey(id)) {
			Map<String, Expression> arguments = fc.macroArguments.pop();
			try {
				return compile(arguments.get(id));
			} finally {
				fc.macroArguments.push(arguments);
			}
		}
		Var var = fc.lookup(id);
		if (var != null) {
			return variable(var, program.site(name)).read();
		}
		Ex builtin = calls.builtins.variable(id);
		if (builtin != null) {
			return builtin;
		}
		Program.Macro macro = program.macros.get(id);
		if (macro != null && macro.parameters() == null && macro.body() != null) {
			return compile(macro.body());
		}
		Optional<CatalogConstant> constant = program.catalog.constant(id);
		if (constant.isEmpty() && id.startsWith(CUDA_NAMESPACE)) {
			// nvcuda::wmma::mem_row_major: the catalog names them as CUDA's prelude's using-directive lets code write
			constant = program.catalog.constant(id.substring(CUDA_NAMESPACE.length()));
		}
		if (constant.isPresent()) {
			return catalogConstant(constant.get());
		}
		VmType bound = fc.bindings.get(id);
		if (bound instanceof VmType.TemplateValue value) {
			return Ex.constant(VmType.I32, value.value());
		}
		if (bound != null) {
			throw error(name, "the type '" + id + "' is used as a value");
		}
		throw error(name, "'" + id + "' is not known to the virtual device");
	}

	static Ex catalogConstant(CatalogConstant constant) {
		Object value = constant.value();
		if (value instanceof String s) {
			return Ex.constant(VmType.F32, s.equals("NaN") ? Double.NaN
					: s.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
		}
		if (value instanceof Double || value instanceof Float) {
			boolean isDouble = "double".equals(constant.type());
			double v = ((Number) value).doubleValue();
			return isDouble ? Ex.constant(VmType.F64, v) : Ex.constant(VmType.F32, (double) (float) v);
		}
		long v = ((Number) value).longValue();
		return Ex.constant(v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE ? VmType.I32 : VmType.I64, v);
	}

	/** The place a variable names. */
	Lv variable(Var var, int site) {
		VmType type = var.type();
		int slot = var.slot();
		if (var.storage() == Storage.CONSTANT) {
			Ex value = Ex.constant(type, var.constant());
			return new Lv(type) {
				@Override
				long getL(Frame f, long place) {
					return var.constant();
				}

				@Override
				Ex read() {
					return value;
				}
			};
		}
		if (var.storage() == Storage.MEMORY) {
			Ex address = new Ex(new VmType.Pointer(type)) {
				@Override
				long l(Frame f) {
					return f.l[slot];
				}
			};
			return MemoryPlace.at(address, type, site);
		}
		if (var.storage() == Storage.STATIC) {
			Ex address = new Ex(new VmType.Pointer(type)) {
				@Override
				long l(Frame f) {
					return f.lane.statics[slot];
				}
			};
			return MemoryPlace.at(address, type, site);
		}
		return switch (type.kind()) {
		case DOUBLE -> new Lv(type) {
			@Override
			int registerSlot() {
				return slot;
			}

			@Override
			double getD(Frame f, long place) {
				return f.d[slot];
			}

			@Override
			void setD(Frame f, long place, double value) {
				f.d[slot] = value;
			}

			@Override
			Ex read() {
				return new Ex(type) {
					@Override
					double d(Frame f) {
						return f.d[slot];
					}

					@Override
					int registerSlot() {
						return slot;
					}
				};
			}
		};
		case OBJECT -> new Lv(type) {
			@Override
			Object getO(Frame f, long place) {
				return f.o[slot];
			}

			@Override
			void setO(Frame f, long place, Object value) {
				f.o[slot] = ((byte[]) value).clone();
			}
		};
		default -> new Lv(type) {
			@Override
			int registerSlot() {
				return slot;
			}

			@Override
			long getL(Frame f, long place) {
				return f.l[slot];
			}

			@Override
			void setL(Frame f, long place, long value) {
				f.l[slot] = value;
			}

			@Override
			Ex read() {
				return new Ex(type) {
					@Override
					long l(Frame f) {
						return f.l[slot];
					}

					@Override
					int registerSlot() {
						return slot;
					}
				};
			}
		};
		};
	}

	// ---------------------------------------------------------------- places

	Lv lvalue(Expression e) {
		int site = program.site(e);
		switch (e) {
		case Parenthesized p:
			return lvalue(p.getExpression());
		case Name name: {
			if (!fc.macroArguments.isEmpty() && fc.macroArguments.peek().containsKey(name.getName())) {
				Map<String, Expression> arguments = fc.macroArguments.pop();
				try {
					return lvalue(arguments.get(name.getName()));
				} finally {
					fc.macroArguments.push(arguments);
				}
			}
			Var var = fc.lookup(name.getName());
			if (var == null) {
				throw error(e, "'" + name.getName() + "' is not a variable that can be assigned");
			}
			if (var.storage() == Storage.CONSTANT) {
				throw error(e, "'" + name.getName() + "' is const and cannot be assigned");
			}
			return variable(var, site);
		}
		case Index index: {
			Ex target = compile(index.getTarget());
			Ex subscript = compile(index.getIndex());
			if (target.type instanceof VmType.Vector vector) {
				Lv base = lvalueOrTemporary(index.getTarget(), target);
				Ex offset = scale(subscript, vector.lane().bytes());
				return MemoryPlace.field(base, offset, vector.lane(), vector.bytes(), program, site);
			}
			if (VmType.isInteger(target.type) && VmType.isPointerLike(subscript.type)) {
				Ex swap = target;
				target = subscript;
				subscript = swap;
			}
			if (!VmType.isPointerLike(target.type)) {
				throw error(e, "'" + text(index.getTarget()) + "' is not an array or pointer");
			}
			VmType element = VmType.pointee(target.type);
			return MemoryPlace.at(offsetPointer(target, subscript, 1, element), element, site);
		}
		case Unary unary when unary.getOp().equals("*"): {
			Ex pointer = compile(unary.getOperand());
			if (!VmType.isPointerLike(pointer.type)) {
				throw error(e, "'" + text(unary.getOperand()) + "' is not a pointer");
			}
			return MemoryPlace.at(pointer, VmType.pointee(pointer.type), site);
		}
		case MemberAccess access:
			return member(access);
		default:
			throw error(e, "'" + text(e) + "' cannot be assigned");
		}
	}

	/** An aggregate's place, or a temporary holding its value when it is not a variable. */
	private Lv lvalueOrTemporary(Expression e, Ex value) {
		try {
			return lvalue(e);
		} catch (CompileError notAPlace) {
			return new Lv(value.type) {
				@Override
				Object getO(Frame f, long place) {
					return value.o(f);
				}
			};
		}
	}

	/** {@code pointer + count} elements of {@code element}, as an address. */
	private Ex offsetPointer(Ex pointer, Ex count, int sign, VmType element) {
		int stride = element instanceof VmType.Void ? 1 : element.size();
		VmType result = pointer.type instanceof VmType.Array a ? new VmType.Pointer(a.element()) : pointer.type;
		Ex index = count.type.kind() == VmType.Kind.LONG ? count : convert(count, VmType.I64);
		Long constant = index.constant();
		if (constant != null) {
			long delta = sign * constant * stride;
			return new Ex(result) {
				@Override
				long l(Frame f) {
					return pointer.l(f) + delta;
				}
			};
		}
		long scale = (long) sign * stride;
		int base = pointer.registerSlot();
		if (base >= 0) {
			return new Ex(result) {
				@Override
				long l(Frame f) {
					return f.l[base] + index.l(f) * scale;
				}
			};
		}
		return new Ex(result) {
			@Override
			long l(Frame f) {
				return pointer.l(f) + index.l(f) * scale;
			}
		};
	}

	private Ex scale(Ex index, int factor) {
		Ex i = convert(index, VmType.I64);
		return new Ex(VmType.I64) {
			@Override
			long l(Frame f) {
				return i.l(f) * factor;
			}
		};
	}

	private Ex memberAccess(MemberAccess access) {
		Ex builtin = calls.builtins.member(access);
		if (builtin != null) {
			return builtin;
		}
		if (!access.isArrow() && access.getMember().equals("num_elements")
				&& compile(access.getTarget()).type instanceof VmType.Fragment fragment) {
			return Ex.constant(VmType.I32, (long) fragment.rows() * fragment.cols());
		}
		return member(access).read();
	}

	private Lv member(MemberAccess access) {
		int site = program.site(access);
		if (access.isArrow()) {
			Ex pointer = compile(access.getTarget());
			if (!(pointer.type instanceof VmType.Pointer p) || !(p.target() instanceof VmType.Struct struct)) {
				throw error(access, "'" + text(access.getTarget()) + "' is not a pointer to a struct");
			}
			return fieldInMemory(pointer::l, fieldOf(struct, access), site);
		}
		Ex target = compile(access.getTarget());
		Lv base = lvalueOrTemporary(access.getTarget(), target);
		if (target.type instanceof VmType.Fragment fragment && access.getMember().equals("x")) {
			return WmmaFragments.elements(base, fragment);
		}
		if (target.type instanceof VmType.Struct struct) {
			VmType.Field field = fieldOf(struct, access);
			if (base.addressable()) { // a struct in memory: its field is memory too, read and written in place
				return fieldInMemory(base::prepare, field, site);
			}
			if (!(field.type() instanceof Scalar)) {
				throw error(access, "the member '" + field.name() + "' of a " + struct.name() + " value that is not in "
						+ "memory (a returned struct) is not readable by the virtual device: store the struct in a variable first");
			}
			return MemoryPlace.field(base, Ex.constant(VmType.I64, (long) field.offset()),
					((Scalar) field.type()).element(), struct.size(), program, site);
		}
		if (target.type instanceof VmType.Vector vector) {
			int lane = "xyzw".indexOf(access.getMember());
			if (access.getMember().length() != 1 || lane < 0 || lane >= vector.lanes()) {
				throw error(access, vector.name() + " has no member '" + access.getMember() + "'");
			}
			return MemoryPlace.field(base, Ex.constant(VmType.I64, (long) lane * vector.lane().bytes()), vector.lane(),
					vector.bytes(), program, site);
		}
		throw error(access, "'" + text(access.getTarget()) + "' has no members");
	}

	/** The field of the struct at the address {@code struct} computes. */
	private static Lv fieldInMemory(java.util.function.ToLongFunction<Frame> struct, VmType.Field field, int site) {
		int offset = field.offset();
		Ex address = new Ex(new VmType.Pointer(field.type())) {
			@Override
			long l(Frame f) {
				return struct.applyAsLong(f) + offset;
			}
		};
		return MemoryPlace.at(address, field.type(), site);
	}

	private VmType.Field fieldOf(VmType.Struct struct, MemberAccess access) {
		VmType.Field field = struct.field(access.getMember());
		if (field == null) {
			throw error(access, struct.name() + " has no member '" + access.getMember() + "'");
		}
		return field;
	}

	// ---------------------------------------------------------------- conversions

	/** Converts a value to {@code to} as C does for assignment, initialization, arguments and casts. */
	Ex convert(Ex e, VmType to) {
		VmType from = e.type;
		if (from.equals(to) || to instanceof VmType.Void) {
			return to instanceof VmType.Void ? voided(e) : e;
		}
		if (to.kind() == VmType.Kind.LONG && !(to instanceof Scalar)) {
			// pointers and handles: the address is kept, only its type changes
			if (from.kind() != VmType.Kind.LONG) {
				throw new CompileError(Site.UNKNOWN, "cannot convert " + from.display() + " to " + to.display());
			}
			return retype(e, to);
		}
		if (to instanceof Scalar target) {
			ElementType t = target.element();
			if (from.kind() == VmType.Kind.LONG) {
				ElementType source = from instanceof Scalar s ? s.element() : ElementType.U64;
				if (t.isFloating()) {
					return new Ex(to) {
						@Override
						double d(Frame f) {
							return Arithmetic.round(t, Arithmetic.toDouble(source, e.l(f)));
						}
					};
				}
				if (t == ElementType.I64 || t == ElementType.U64) {
					return retype(e, to);
				}
				Long constant = e.constant();
				if (constant != null) {
					return Ex.constant(to, Arithmetic.wrap(t, constant));
				}
				return new Ex(to) {
					@Override
					long l(Frame f) {
						return Arithmetic.wrap(t, e.l(f));
					}
				};
			}
			if (from.kind() == VmType.Kind.DOUBLE) {
				ElementType source = ((Scalar) from).element();
				if (t.isFloating()) {
					if (t == ElementType.F64 || t.bytes() > source.bytes() && !(t == ElementType.F16 && source == ElementType.BF16)) {
						return retype(e, to); // widening is exact
					}
					return new Ex(to) {
						@Override
						double d(Frame f) {
							return Arithmetic.round(t, e.d(f));
						}
					};
				}
				return new Ex(to) {
					@Override
					long l(Frame f) {
						return Arithmetic.truncate(t, e.d(f));
					}
				};
			}
		}
		if (to instanceof VmType.Vector && from instanceof VmType.Vector && from.size() == to.size()) {
			return retype(e, to);
		}
		if (to instanceof VmType.Vector vector && (from.kind() == VmType.Kind.DOUBLE || from.kind() == VmType.Kind.LONG)) {
			// a scalar converted to a vector (e.g. passed as a 16-bit half2 lane) is a broadcast
			Ex lane = convert(e, VmType.of(vector.lane()));
			return new Ex(to) {
				@Override
				Object o(Frame f) {
					byte[] bytes = new byte[vector.bytes()];
					for (int i = 0; i < vector.lanes(); i++) {
						if (vector.lane().isFloating()) {
							MemoryPlace.writeFloating(vector.lane(), bytes, i * vector.lane().bytes(), lane.d(f));
						} else {
							MemoryPlace.writeInteger(vector.lane(), bytes, i * vector.lane().bytes(), lane.l(f));
						}
					}
					return bytes;
				}
			};
		}
		throw new CompileError(Site.UNKNOWN, "cannot convert " + from.display() + " to " + to.display());
	}

	private static Ex voided(Ex e) {
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				e.run(f);
				return 0;
			}
		};
	}

	private static Ex retype(Ex e, VmType to) {
		Long constant = e.constant();
		if (constant != null && to.kind() == VmType.Kind.LONG) {
			return Ex.constant(to, constant);
		}
		return switch (to.kind()) {
		case DOUBLE -> new Ex(to) {
			@Override
			double d(Frame f) {
				return e.d(f);
			}
		};
		case OBJECT -> new Ex(to) {
			@Override
			Object o(Frame f) {
				return e.o(f);
			}
		};
		default -> new Ex(to) {
			@Override
			long l(Frame f) {
				return e.l(f);
			}
		};
		};
	}

	/** The value as a C truth value: 0 or 1. */
	Ex truth(Ex e) {
		if (e.type.kind() == VmType.Kind.DOUBLE) {
			return new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return e.d(f) != 0 ? 1 : 0;
				}
			};
		}
		if (e.type.kind() != VmType.Kind.LONG) {
			throw new CompileError(Site.UNKNOWN, e.type.display() + " is not a truth value");
		}
		if (e.type.equals(VmType.BOOL)) {
			return e;
		}
		Long constant = e.constant();
		if (constant != null) {
			return Ex.constant(VmType.I32, constant != 0 ? 1L : 0L);
		}
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return e.l(f) != 0 ? 1 : 0;
			}
		};
	}

	// ---------------------------------------------------------------- operators

	private Ex binary(Binary b) {
		String op = b.getOp();
		Ex left = compile(b.getLeft());
		Ex right = compile(b.getRight());
		try {
			return binary(op, left, right, program.site(b));
		} catch (CompileError e) {
			throw e.site() == Site.UNKNOWN ? error(b, e.getMessage() + " in '" + text(b) + "'") : e;
		}
	}

	Ex binary(String op, Ex left, Ex right, int site) {
		if (op.equals("&&") || op.equals("||")) {
			Ex a = truth(left);
			Ex c = truth(right);
			boolean and = op.equals("&&");
			return new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return and ? (a.l(f) != 0 && c.l(f) != 0 ? 1 : 0) : (a.l(f) != 0 || c.l(f) != 0 ? 1 : 0);
				}
			};
		}
		boolean leftPointer = VmType.isPointerLike(left.type);
		boolean rightPointer = VmType.isPointerLike(right.type);
		if (leftPointer || rightPointer) {
			return pointerArithmetic(op, left, right, leftPointer, rightPointer);
		}
		if (!(left.type instanceof Scalar || left.type instanceof VmType.Opaque)
				|| !(right.type instanceof Scalar || right.type instanceof VmType.Opaque)) {
			throw new CompileError(Site.UNKNOWN, "the operator " + op + " does not apply to " + left.type.display()
					+ " and " + right.type.display());
		}
		boolean shift = op.equals("<<") || op.equals(">>");
		VmType common = shift ? Arithmetic.promote(left.type) : Arithmetic.common(left.type, right.type);
		Ex a = convert(left, common);
		Ex c = shift ? convert(right, Arithmetic.promote(right.type)) : convert(right, common);
		ElementType t = ((Scalar) common).element();
		if (isComparison(op)) {
			return comparison(op, a, c, t);
		}
		if (t.isFloating()) {
			return floating(op, a, c, t);
		}
		return integer(op, a, c, t, site);
	}

	private static boolean isComparison(String op) {
		return switch (op) {
		case "<", "<=", ">", ">=", "==", "!=" -> true;
		default -> false;
		};
	}

	private Ex comparison(String op, Ex a, Ex c, ElementType t) {
		if (t.isFloating()) {
			return switch (op) {
			case "<" -> new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.d(f) < c.d(f) ? 1 : 0;
				}
			};
			case "<=" -> new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.d(f) <= c.d(f) ? 1 : 0;
				}
			};
			case ">" -> new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.d(f) > c.d(f) ? 1 : 0;
				}
			};
			case ">=" -> new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.d(f) >= c.d(f) ? 1 : 0;
				}
			};
			case "==" -> new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.d(f) == c.d(f) ? 1 : 0;
				}
			};
			default -> new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.d(f) != c.d(f) ? 1 : 0;
				}
			};
			};
		}
		if (t == ElementType.U64) {
			return longComparison(op, a, c, true);
		}
		Long bound = c.constant();
		int left = a.registerSlot();
		if (bound != null && op.equals("<") && left >= 0) {
			long k = bound;
			return new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return f.l[left] < k ? 1 : 0;
				}
			};
		}
		if (bound != null && op.equals("<")) {
			long k = bound;
			return new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return a.l(f) < k ? 1 : 0;
				}
			};
		}
		return longComparison(op, a, c, false);
	}

	private static Ex longComparison(String op, Ex a, Ex c, boolean unsigned) {
		if (unsigned) {
			return new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					int r = Long.compareUnsigned(a.l(f), c.l(f));
					return switch (op) {
					case "<" -> r < 0 ? 1 : 0;
					case "<=" -> r <= 0 ? 1 : 0;
					case ">" -> r > 0 ? 1 : 0;
					case ">=" -> r >= 0 ? 1 : 0;
					case "==" -> r == 0 ? 1 : 0;
					default -> r != 0 ? 1 : 0;
					};
				}
			};
		}
		return switch (op) {
		case "<" -> new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return a.l(f) < c.l(f) ? 1 : 0;
			}
		};
		case "<=" -> new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return a.l(f) <= c.l(f) ? 1 : 0;
			}
		};
		case ">" -> new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return a.l(f) > c.l(f) ? 1 : 0;
			}
		};
		case ">=" -> new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return a.l(f) >= c.l(f) ? 1 : 0;
			}
		};
		case "==" -> new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return a.l(f) == c.l(f) ? 1 : 0;
			}
		};
		default -> new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return a.l(f) != c.l(f) ? 1 : 0;
			}
		};
		};
	}

	static DoubleBinaryOperator floatingOperator(String op) {
		return switch (op) {
		case "+" -> (x, y) -> x + y;
		case "-" -> (x, y) -> x - y;
		case "*" -> (x, y) -> x * y;
		case "/" -> (x, y) -> x / y;
		default -> null;
		};
	}

	private Ex floating(String op, Ex a, Ex c, ElementType t) {
		VmType type = VmType.of(t);
		if (t == ElementType.F32) {
			return switch (op) {
			case "+" -> new Ex(type) {
				@Override
				double d(Frame f) {
					return (float) (a.d(f) + c.d(f));
				}
			};
			case "-" -> new Ex(type) {
				@Override
				double d(Frame f) {
					return (float) (a.d(f) - c.d(f));
				}
			};
			case "*" -> new Ex(type) {
				@Override
				double d(Frame f) {
					return (float) (a.d(f) * c.d(f));
				}
			};
			case "/" -> new Ex(type) {
				@Override
				double d(Frame f) {
					return (float) (a.d(f) / c.d(f));
				}
			};
			default -> throw new CompileError(Site.UNKNOWN, "the operator " + op + " does not apply to float");
			};
		}
		DoubleBinaryOperator operator = floatingOperator(op);
		if (operator == null) {
			throw new CompileError(Site.UNKNOWN, "the operator " + op + " does not apply to " + t.cName());
		}
		return new Ex(type) {
			@Override
			double d(Frame f) {
				return Arithmetic.round(t, operator.applyAsDouble(a.d(f), c.d(f)));
			}
		};
	}

	/** The integer operator of {@code op} for operands of type {@code t}; division checks for zero. */
	LongBinaryOperator integerOperator(String op, ElementType t, int site) {
		int bits = t.bytes() * 8;
		boolean unsigned64 = t == ElementType.U64;
		return switch (op) {
		case "+" -> (x, y) -> Arithmetic.wrap(t, x + y);
		case "-" -> (x, y) -> Arithmetic.wrap(t, x - y);
		case "*" -> (x, y) -> Arithmetic.wrap(t, x * y);
		case "/" -> (x, y) -> {
			if (y == 0) {
				throw divisionByZero(site);
			}
			return Arithmetic.wrap(t, unsigned64 ? Long.divideUnsigned(x, y) : x / y);
		};
		case "%" -> (x, y) -> {
			if (y == 0) {
				throw divisionByZero(site);
			}
			return Arithmetic.wrap(t, unsigned64 ? Long.remainderUnsigned(x, y) : x % y);
		};
		case "&" -> (x, y) -> Arithmetic.wrap(t, x & y);
		case "|" -> (x, y) -> Arithmetic.wrap(t, x | y);
		case "^" -> (x, y) -> Arithmetic.wrap(t, x ^ y);
		case "<<" -> (x, y) -> Arithmetic.wrap(t, x << (y & (bits - 1)));
		case ">>" -> (x, y) -> Arithmetic.wrap(t, t.isSigned() ? x >> (y & (bits - 1)) : x >>> (y & (bits - 1)));
		default -> throw new CompileError(Site.UNKNOWN, "unknown operator " + op);
		};
	}

	private VmError divisionByZero(int site) {
		return new VmError(program.site(site), "", "integer division by zero");
	}

	private Ex integer(String op, Ex a, Ex c, ElementType t, int site) {
		VmType type = VmType.of(t);
		Long x = a.constant();
		Long y = c.constant();
		LongBinaryOperator operator = integerOperator(op, t, site);
		if (x != null && y != null && !((op.equals("/") || op.equals("%")) && y == 0)) {
			return Ex.constant(type, operator.applyAsLong(x, y));
		}
		if (t == ElementType.I32 && (op.equals("+") || op.equals("-") || op.equals("*"))) {
			Affine x1 = Affine.of(a);
			Affine y1 = Affine.of(c);
			Affine combined = x1 == null || y1 == null ? null
					: op.equals("*") ? Affine.times(x1, y1) : Affine.add(x1, y1, op.equals("+") ? 1 : -1);
			if (combined != null) {
				return combined.compile();
			}
		}
		if (t == ElementType.I32 && y != null && (op.equals("+") || op.equals("*"))) {
			long k = y;
			return op.equals("+") ? new Ex(type) {
				@Override
				long l(Frame f) {
					return (int) (a.l(f) + k);
				}
			} : new Ex(type) {
				@Override
				long l(Frame f) {
					return (int) (a.l(f) * k);
				}
			};
		}
		int right = c.registerSlot();
		if (t == ElementType.I32 && right >= 0 && (op.equals("+") || op.equals("*"))) {
			return op.equals("+") ? new Ex(type) {
				@Override
				long l(Frame f) {
					return (int) (a.l(f) + f.l[right]);
				}
			} : new Ex(type) {
				@Override
				long l(Frame f) {
					return (int) (a.l(f) * f.l[right]);
				}
			};
		}
		if (t == ElementType.I32) {
			switch (op) {
			case "+":
				return new Ex(type) {
					@Override
					long l(Frame f) {
						return (int) (a.l(f) + c.l(f));
					}
				};
			case "-":
				return new Ex(type) {
					@Override
					long l(Frame f) {
						return (int) (a.l(f) - c.l(f));
					}
				};
			case "*":
				return new Ex(type) {
					@Override
					long l(Frame f) {
						return (int) (a.l(f) * c.l(f));
					}
				};
			default:
				break;
			}
		}
		if (t == ElementType.I64 && op.equals("+")) {
			return new Ex(type) {
				@Override
				long l(Frame f) {
					return a.l(f) + c.l(f);
				}
			};
		}
		return new Ex(type) {
			@Override
			long l(Frame f) {
				try {
					return operator.applyAsLong(a.l(f), c.l(f));
				} catch (VmError e) {
					throw new VmError(e.site(), f.lane.describe(), e.getMessage());
				}
			}
		};
	}

	private Ex pointerArithmetic(String op, Ex left, Ex right, boolean leftPointer, boolean rightPointer) {
		if (isComparison(op)) {
			return longComparison(op, convert(left, VmType.U64), convert(right, VmType.U64), false);
		}
		if (leftPointer && rightPointer && op.equals("-")) {
			int stride = Math.max(1, VmType.pointee(left.type) instanceof VmType.Void ? 1 : VmType.pointee(left.type).size());
			return new Ex(VmType.I64) {
				@Override
				long l(Frame f) {
					return (left.l(f) - right.l(f)) / stride;
				}
			};
		}
		if (leftPointer && !rightPointer && (op.equals("+") || op.equals("-"))) {
			return offsetPointer(left, right, op.equals("+") ? 1 : -1, VmType.pointee(left.type));
		}
		if (!leftPointer && op.equals("+")) {
			return offsetPointer(right, left, 1, VmType.pointee(right.type));
		}
		throw new CompileError(Site.UNKNOWN, "the operator " + op + " does not apply to pointers here");
	}

	private Ex unary(Unary u) {
		String op = u.getOp();
		int site = program.site(u);
		switch (op) {
		case "*":
			return lvalue(u).read();
		case "&": {
			Expression operand = u.getOperand();
			while (operand instanceof Parenthesized p) {
				operand = p.getExpression();
			}
			Ex function = calls.functionReference(operand);
			if (function != null) {
				return function;
			}
			Lv place = lvalue(operand);
			if (!place.addressable()) {
				throw error(u, "cannot take the address of '" + text(operand) + "' (a register value)");
			}
			VmType pointer = new VmType.Pointer(place.type);
			return new Ex(pointer) {
				@Override
				long l(Frame f) {
					return place.prepare(f);
				}
			};
		}
		case "++", "--":
			return increment(lvalue(u.getOperand()), op.equals("++") ? 1 : -1, false, site);
		case "!": {
			Ex value = truth(compile(u.getOperand()));
			return new Ex(VmType.I32) {
				@Override
				long l(Frame f) {
					return value.l(f) == 0 ? 1 : 0;
				}
			};
		}
		default:
			break;
		}
		Ex operand = compile(u.getOperand());
		VmType type = Arithmetic.promote(operand.type);
		Ex value = convert(operand, type);
		ElementType t = ((Scalar) type).element();
		switch (op) {
		case "+":
			return value;
		case "-":
			if (t.isFloating()) {
				return new Ex(type) {
					@Override
					double d(Frame f) {
						return -value.d(f);
					}
				};
			}
			Long constant = value.constant();
			if (constant != null) {
				return Ex.constant(type, Arithmetic.wrap(t, -constant));
			}
			return new Ex(type) {
				@Override
				long l(Frame f) {
					return Arithmetic.wrap(t, -value.l(f));
				}
			};
		case "~":
			return new Ex(type) {
				@Override
				long l(Frame f) {
					return Arithmetic.wrap(t, ~value.l(f));
				}
			};
		default:
			throw error(u, "the operator " + op + " is not supported");
		}
	}

	/** {@code ++x}, {@code x--}: the place changes by one (one element for pointers). */
	private Ex increment(Lv place, int delta, boolean postfix, int site) {
		VmType type = place.type;
		if (type.kind() == VmType.Kind.DOUBLE) {
			ElementType t = ((Scalar) type).element();
			return new Ex(type) {
				@Override
				double d(Frame f) {
					long p = place.prepare(f);
					double old = place.getD(f, p);
					double updated = Arithmetic.round(t, old + delta);
					place.setD(f, p, updated);
					return postfix ? old : updated;
				}
			};
		}
		long step = type instanceof VmType.Pointer pointer ? (long) delta * pointer.stride() : delta;
		ElementType t = type instanceof Scalar s ? s.element() : ElementType.U64;
		int slot = place.registerSlot();
		if (slot >= 0 && t == ElementType.I32) {
			return new Ex(type) {
				@Override
				long l(Frame f) {
					long old = f.l[slot];
					long updated = (int) (old + step);
					f.l[slot] = updated;
					return postfix ? old : updated;
				}
			};
		}
		return new Ex(type) {
			@Override
			long l(Frame f) {
				long p = place.prepare(f);
				long old = place.getL(f, p);
				long updated = Arithmetic.wrap(t, old + step);
				place.setL(f, p, updated);
				return postfix ? old : updated;
			}
		};
	}

	private Ex assignment(Assignment a) {
		Lv place = lvalue(a.getLeft());
		Ex right = compile(a.getRight());
		String op = a.getOp();
		int site = program.site(a);
		try {
			if (op.equals("=")) {
				return store(place, convert(right, place.type));
			}
			String operator = op.substring(0, op.length() - 1);
			return compound(place, operator, right, site);
		} catch (CompileError e) {
			throw e.site() == Site.UNKNOWN ? error(a, e.getMessage() + " in '" + text(a) + "'") : e;
		}
	}

	/** {@code place = value}; the expression's value is the stored value. */
	static Ex store(Lv place, Ex value) {
		return switch (place.type.kind()) {
		case DOUBLE -> new Ex(place.type) {
			@Override
			double d(Frame f) {
				long p = place.prepare(f);
				double v = value.d(f);
				place.setD(f, p, v);
				return v;
			}
		};
		case OBJECT -> new Ex(place.type) {
			@Override
			Object o(Frame f) {
				long p = place.prepare(f);
				Object v = value.o(f);
				place.setO(f, p, v);
				return v;
			}
		};
		default -> new Ex(place.type) {
			@Override
			long l(Frame f) {
				long p = place.prepare(f);
				long v = value.l(f);
				place.setL(f, p, v);
				return v;
			}
		};
		};
	}

	private Ex compound(Lv place, String op, Ex right, int site) {
		VmType type = place.type;
		if (type instanceof VmType.Pointer pointer) {
			long stride = pointer.stride() * (op.equals("-") ? -1L : 1L);
			if (!op.equals("+") && !op.equals("-")) {
				throw new CompileError(Site.UNKNOWN, "the operator " + op + "= does not apply to pointers");
			}
			Ex count = convert(right, VmType.I64);
			return new Ex(type) {
				@Override
				long l(Frame f) {
					long p = place.prepare(f);
					long updated = place.getL(f, p) + count.l(f) * stride;
					place.setL(f, p, updated);
					return updated;
				}
			};
		}
		boolean shift = op.equals("<<") || op.equals(">>");
		VmType common = shift ? Arithmetic.promote(type) : Arithmetic.common(type, right.type);
		ElementType c = ((Scalar) common).element();
		ElementType target = ((Scalar) type).element();
		Ex r = convert(right, shift ? Arithmetic.promote(right.type) : common);
		if (c.isFloating()) {
			DoubleBinaryOperator operator = floatingOperator(op);
			if (operator == null) {
				throw new CompileError(Site.UNKNOWN, "the operator " + op + "= does not apply to " + c.cName());
			}
			int slot = place.registerSlot();
			if (target == ElementType.F32 && c == ElementType.F32 && slot >= 0 && op.equals("+")) {
				return new Ex(type) { // acc += x, the accumulation of every reduction loop
					@Override
					double d(Frame f) {
						double updated = (float) (f.d[slot] + r.d(f));
						f.d[slot] = updated;
						return updated;
					}
				};
			}
			if (target.isFloating()) {
				return new Ex(type) {
					@Override
					double d(Frame f) {
						long p = place.prepare(f);
						double updated = Arithmetic.round(target,
								Arithmetic.round(c, operator.applyAsDouble(place.getD(f, p), r.d(f))));
						place.setD(f, p, updated);
						return updated;
					}
				};
			}
			return new Ex(type) {
				@Override
				long l(Frame f) {
					long p = place.prepare(f);
					double current = Arithmetic.toDouble(target, place.getL(f, p));
					long updated = Arithmetic.truncate(target, Arithmetic.round(c, operator.applyAsDouble(current, r.d(f))));
					place.setL(f, p, updated);
					return updated;
				}
			};
		}
		LongBinaryOperator operator = integerOperator(op, c, site);
		return new Ex(type) {
			@Override
			long l(Frame f) {
				long p = place.prepare(f);
				long updated = Arithmetic.wrap(target, operator.applyAsLong(place.getL(f, p), r.l(f)));
				place.setL(f, p, updated);
				return updated;
			}
		};
	}

	private Ex conditional(Conditional c) {
		Ex condition = truth(compile(c.getCondition()));
		Ex a = compile(c.getThen());
		Ex b = compile(c.getElse());
		VmType type;
		if (a.type.equals(b.type)) {
			type = a.type;
		} else if (VmType.isPointerLike(a.type)) {
			type = a.type instanceof VmType.Array arr ? new VmType.Pointer(arr.element()) : a.type;
		} else if (VmType.isPointerLike(b.type)) {
			type = b.type instanceof VmType.Array arr ? new VmType.Pointer(arr.element()) : b.type;
		} else if (a.type instanceof Scalar && b.type instanceof Scalar) {
			type = Arithmetic.common(a.type, b.type);
		} else {
			throw error(c, "the branches of '?:' have types " + a.type.display() + " and " + b.type.display());
		}
		Ex x = convert(a, type);
		Ex y = convert(b, type);
		return switch (type.kind()) {
		case DOUBLE -> new Ex(type) {
			@Override
			double d(Frame f) {
				return condition.l(f) != 0 ? x.d(f) : y.d(f);
			}
		};
		case OBJECT -> new Ex(type) {
			@Override
			Object o(Frame f) {
				return condition.l(f) != 0 ? x.o(f) : y.o(f);
			}
		};
		default -> new Ex(type) {
			@Override
			long l(Frame f) {
				return condition.l(f) != 0 ? x.l(f) : y.l(f);
			}
		};
		};
	}

	private Ex construction(BuiltinTypeConstruction construction) {
		VmType type = program.types.named(construction.getType(), fc.bindings);
		List<Expression> args = construction.getArgs();
		if (args.isEmpty()) {
			return type.kind() == VmType.Kind.DOUBLE ? Ex.constant(type, 0.0) : Ex.constant(type, 0L);
		}
		return convert(compile(args.get(0)), type);
	}

	private VmType sizeOfOperand(SizeOf sizeOf) {
		if (sizeOf.getType() != null) {
			return program.types.typeName(sizeOf.getType(), fc.bindings);
		}
		Expression operand = sizeOf.getOperand();
		while (operand instanceof Parenthesized p) {
			operand = p.getExpression();
		}
		if (operand instanceof Name name && fc.lookup(name.getName()) == null) {
			// sizeof(T), sizeof(float4): a type written where the grammar reads an expression
			return program.types.named(name.getName(), fc.bindings);
		}
		return compile(operand).type;
	}

	private Ex comma(CommaExpression comma) {
		List<Ex> parts = comma.getExpressions().stream().map(this::compile).toList();
		Ex last = parts.get(parts.size() - 1);
		List<Ex> before = parts.subList(0, parts.size() - 1);
		return switch (last.type.kind()) {
		case DOUBLE -> new Ex(last.type) {
			@Override
			double d(Frame f) {
				before.forEach(p -> p.run(f));
				return last.d(f);
			}
		};
		case OBJECT -> new Ex(last.type) {
			@Override
			Object o(Frame f) {
				before.forEach(p -> p.run(f));
				return last.o(f);
			}
		};
		default -> new Ex(last.type) {
			@Override
			long l(Frame f) {
				before.forEach(p -> p.run(f));
				return last.l(f);
			}
		};
		};
	}
}
