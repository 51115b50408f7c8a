package org.xpiler.core.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Places in memory and in aggregates: {@code p[i]}, {@code *p}, a memory-resident local, {@code v.x} of a
 * struct or vector register, {@code v[i]} lanes of a SIMD value.
 */
final class MemoryPlace {
	private MemoryPlace() {
	}

	/** The element of type {@code type} at the address {@code address} computes. */
	static Lv at(Ex address, VmType type, int site) {
		if (type instanceof VmType.Array) {
			return new Lv(type) {
				@Override
				long prepare(Frame f) {
					return address.l(f);
				}

				@Override
				long getL(Frame f, long place) {
					return place; // an array in memory is its address
				}

				@Override
				boolean addressable() {
					return true;
				}
			};
		}
		if (type instanceof VmType.Scalar s && s.element() == ElementType.F32) {
			return new Lv(type) {
				@Override
				long prepare(Frame f) {
					return address.l(f);
				}

				@Override
				double getD(Frame f, long place) {
					return f.memory.loadF32(place, site);
				}

				@Override
				void setD(Frame f, long place, double value) {
					f.memory.storeF32(place, (float) value, site);
				}

				@Override
				boolean addressable() {
					return true;
				}

				@Override
				Ex read() {
					return new Ex(type) {
						/** The region of the last access: the loads of one site usually stay in one buffer. */
						private Region cached;

						@Override
						double d(Frame f) {
							long a = address.l(f);
							Region r = cached;
							if (f.memory.unchecked(r, a, 4)) {
								return (float) F32.get(r.data, Memory.offsetOf(a));
							}
							float value = f.memory.loadF32(a, site);
							cached = f.memory.region(a);
							return value;
						}
					};
				}
			};
		}
		if (type instanceof VmType.Scalar s && s.element() == ElementType.I32) {
			return new Lv(type) {
				@Override
				long prepare(Frame f) {
					return address.l(f);
				}

				@Override
				long getL(Frame f, long place) {
					return f.memory.loadI32(place, site);
				}

				@Override
				void setL(Frame f, long place, long value) {
					f.memory.storeI32(place, (int) value, site);
				}

				@Override
				boolean addressable() {
					return true;
				}

				@Override
				Ex read() {
					return new Ex(type) {
						/** The region of the last access: the loads of one site usually stay in one buffer. */
						private Region cached;

						@Override
						long l(Frame f) {
							long a = address.l(f);
							Region r = cached;
							if (f.memory.unchecked(r, a, 4)) {
								return (int) I32.get(r.data, Memory.offsetOf(a));
							}
							int value = f.memory.loadI32(a, site);
							cached = f.memory.region(a);
							return value;
						}
					};
				}
			};
		}
		boolean[] valueBytes = type instanceof VmType.Struct struct ? struct.valueBytes() : null;
		return new Lv(type) {
			@Override
			long prepare(Frame f) {
				return address.l(f);
			}

			@Override
			long getL(Frame f, long place) {
				return f.memory.load(elementOf(type), place, site);
			}

			@Override
			void setL(Frame f, long place, long value) {
				f.memory.store(elementOf(type), place, value, site);
			}

			@Override
			double getD(Frame f, long place) {
				return f.memory.loadFloating(elementOf(type), place, site);
			}

			@Override
			void setD(Frame f, long place, double value) {
				f.memory.storeFloating(elementOf(type), place, value, site);
			}

			@Override
			Object getO(Frame f, long place) {
				return f.memory.loadBytes(place, type.size(), valueBytes, site);
			}

			@Override
			void setO(Frame f, long place, Object value) {
				f.memory.storeBytes(place, (byte[]) value, site);
			}

			@Override
			boolean addressable() {
				return true;
			}
		};
	}

	/** The element type memory holds for a register type: pointers and handles are 64-bit integers. */
	static ElementType elementOf(VmType type) {
		if (type instanceof VmType.Scalar s) {
			return s.element();
		}
		return ElementType.U64;
	}

	private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle F32 = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle F64 = MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);

	/**
	 * A field or lane of an aggregate held in a register: {@code base} is the place of the aggregate (its bytes
	 * are changed in place), {@code offset} computes the byte offset within it.
	 */
	static Lv field(Lv base, Ex byteOffset, ElementType element, int limit, Program program, int site) {
		VmType type = VmType.of(element);
		return new Lv(type) {
			@Override
			long prepare(Frame f) {
				return base.prepare(f);
			}

			private int offset(Frame f, byte[] bytes) {
				long offset = byteOffset.l(f);
				if (offset < 0 || offset + element.bytes() > Math.min(limit, bytes.length)) {
					throw new VmError(program.site(site), f.lane.describe(), "lane index " + offset / element.bytes()
							+ " is out of range: the value has " + limit / element.bytes() + " " + element.cName() + " lanes");
				}
				return (int) offset;
			}

			@Override
			long getL(Frame f, long place) {
				byte[] bytes = (byte[]) base.getO(f, place);
				return readInteger(element, bytes, offset(f, bytes));
			}

			@Override
			void setL(Frame f, long place, long value) {
				byte[] bytes = (byte[]) base.getO(f, place);
				writeInteger(element, bytes, offset(f, bytes), value);
			}

			@Override
			double getD(Frame f, long place) {
				byte[] bytes = (byte[]) base.getO(f, place);
				return readFloating(element, bytes, offset(f, bytes));
			}

			@Override
			void setD(Frame f, long place, double value) {
				byte[] bytes = (byte[]) base.getO(f, place);
				writeFloating(element, bytes, offset(f, bytes), value);
			}
		};
	}

	static long readInteger(ElementType element, byte[] d, int o) {
		return switch (element) {
		case BOOL -> d[o] != 0 ? 1 : 0;
		case I8 -> d[o];
		case U8 -> d[o] & 0xFF;
		case I16 -> (short) I16.get(d, o);
		case U16 -> (short) I16.get(d, o) & 0xFFFF;
		case I32 -> (int) I32.get(d, o);
		case U32 -> (int) I32.get(d, o) & 0xFFFFFFFFL;
		default -> (long) I64.get(d, o);
		};
	}

	static void writeInteger(ElementType element, byte[] d, int o, long value) {
		switch (element.bytes()) {
		case 1 -> d[o] = (byte) value;
		case 2 -> I16.set(d, o, (short) value);
		case 4 -> I32.set(d, o, (int) value);
		default -> I64.set(d, o, value);
		}
	}

	static double readFloating(ElementType element, byte[] d, int o) {
		return switch (element) {
		case F32 -> (float) F32.get(d, o);
		case F64 -> (double) F64.get(d, o);
		case F16 -> Half.halfBitsToDouble((short) I16.get(d, o));
		default -> Half.bfloat16BitsToDouble((short) I16.get(d, o));
		};
	}

	static void writeFloating(ElementType element, byte[] d, int o, double value) {
		switch (element) {
		case F32 -> F32.set(d, o, (float) value);
		case F64 -> F64.set(d, o, value);
		case F16 -> I16.set(d, o, Half.doubleToHalfBits(value));
		default -> I16.set(d, o, Half.doubleToBfloat16Bits(value));
		}
	}
}
