package org.xpiler.devices;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.xpiler.core.vm.ElementType;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.core.vm.EntryPoint.EntryParameter;

/**
 * Values for the scalar parameters of an entry that the user did not give ({@code --args}), so that a kernel
 * taking {@code int n, float alpha} runs and translates without them. Integers are sizes: distinct (so that
 * swapped dimensions show), not multiples of the usual block sizes (so that tails run), and smaller the more
 * there are (their product bounds the work: three dimensions of a GEMM are 20, 28 and 36). Floating-point
 * values are distinct and exact in every precision ({@code 0.5}, {@code 1.25}, ...); flags are true.
 * Parameters of other types (structs) get none.
 */
public final class ScalarDefaults {
	private static final List<List<Integer>> SIZES = List.of(List.of(1000), List.of(100, 120), List.of(20, 28, 36));
	private static final List<String> REALS = List.of("0.5", "1.25", "0.75", "1.5", "0.25", "2.0");

	private ScalarDefaults() {
	}

	/** The values assumed for the scalars of {@code entry} missing from {@code given}, in parameter order. */
	public static Map<String, String> assumed(EntryPoint entry, Map<String, String> given) {
		List<EntryParameter> missing = entry.parameters().stream().filter(p -> !p.pointer()
				&& !given.containsKey(p.name()) && ElementType.ofCName(p.typeText().strip()).isPresent()).toList();
		List<EntryParameter> integers = missing.stream()
				.filter(p -> !p.element().isFloating() && p.element() != ElementType.BOOL).toList();
		Map<String, String> assumed = new LinkedHashMap<>();
		int integer = 0;
		int real = 0;
		for (EntryParameter p : missing) {
			if (p.element().isFloating()) {
				assumed.put(p.name(), REALS.get(real++ % REALS.size()));
			} else if (p.element() == ElementType.BOOL) {
				assumed.put(p.name(), "1");
			} else {
				assumed.put(p.name(), Integer.toString(size(integer++, integers.size())));
			}
		}
		return assumed;
	}

	/** The scalars {@code given}, then those {@code assumed} for the rest. */
	public static Map<String, String> with(Map<String, String> given, Map<String, String> assumed) {
		Map<String, String> all = new LinkedHashMap<>(given);
		all.putAll(assumed);
		return all;
	}

	/** The {@code index}-th of {@code count} sizes: from the table, else 12, 16, 20, ... */
	private static int size(int index, int count) {
		return count <= SIZES.size() ? SIZES.get(count - 1).get(index) : 12 + 4 * index;
	}
}
