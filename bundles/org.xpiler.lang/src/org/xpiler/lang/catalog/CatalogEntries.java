package org.xpiler.lang.catalog;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The non-function entries of a catalog: types, constants and builtin variables. */
public final class CatalogEntries {
	private CatalogEntries() {
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	public record CatalogType(String name, String kind, Integer bits, Integer lanes, String element, String typedef,
			String summary) {
	}

	/** A named constant; {@code from}/{@code to} are the memory spaces of a copy-direction constant. */
	@JsonIgnoreProperties(ignoreUnknown = true)
	public record CatalogConstant(String name, String type, Object value, String from, String to, String summary) {
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	public record CatalogVariable(String name, String type, String summary, boolean threadDependent) {
	}

	/**
	 * A target device: capacities in bytes by memory space, and its geometry (BANG clusters and cores per
	 * cluster, the GPU warp size; null where the dialect has no such notion).
	 */
	@JsonIgnoreProperties(ignoreUnknown = true)
	public record DeviceModel(String name, @JsonProperty("default") boolean isDefault,
			String description, Map<String, Long> memory, Map<String, Long> reserved, Integer clusters,
			Integer coresPerCluster, Integer warpSize, Integer multiprocessors, Integer maxThreadsPerMultiprocessor) {
		public DeviceModel {
			memory = memory == null ? Map.of() : Map.copyOf(memory);
			reserved = reserved == null ? Map.of() : Map.copyOf(reserved);
		}

		/** What kernels may use of a memory space: its size less what the toolchain reserves. */
		public long usableBytes(String space) {
			return memory.getOrDefault(space, 0L) - reserved.getOrDefault(space, 0L);
		}

		/**
		 * The local memory one GPU thread may use, where the model says: at most the per-thread limit
		 * ({@code local}), and no more than the device memory ({@code global}) divided among every thread that
		 * can be resident, since the runtime reserves a thread's local memory for all of them at launch.
		 */
		public OptionalLong threadLocalBytes() {
			Long perThread = memory.get("local");
			Long device = memory.get("global");
			if (perThread == null || device == null || multiprocessors == null || maxThreadsPerMultiprocessor == null) {
				return OptionalLong.empty();
			}
			long resident = (long) multiprocessors * maxThreadsPerMultiprocessor;
			return OptionalLong.of(Math.min(perThread, device / resident));
		}
	}

	static <T> List<T> orEmpty(List<T> list) {
		return list == null ? List.of() : List.copyOf(list);
	}
}
