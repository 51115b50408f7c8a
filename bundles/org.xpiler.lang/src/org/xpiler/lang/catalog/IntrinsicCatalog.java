package org.xpiler.lang.catalog;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.catalog.CatalogEntries.CatalogType;
import org.xpiler.lang.catalog.CatalogEntries.CatalogVariable;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a dialect offers a kernel without a declaration: intrinsics and runtime calls, builtin variables,
 * constants, types and device models, read from the dialect's {@code catalog.json} (the single source of
 * truth, see {@code dialects/CATALOG.md}).
 */
public final class IntrinsicCatalog {
	private static final ObjectMapper MAPPER = new ObjectMapper()
			.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

	private final String dialect;
	private final List<DeviceModel> deviceModels;
	private final Map<String, CatalogFunction> functions;
	private final Map<String, CatalogConstant> constants;
	private final Map<String, CatalogVariable> variables;
	private final Map<String, CatalogType> types;

	IntrinsicCatalog(Contents contents) {
		this.dialect = contents.dialect();
		this.deviceModels = CatalogEntries.orEmpty(contents.deviceModels());
		this.functions = byName(contents.functions(), CatalogFunction::name);
		this.constants = byName(contents.constants(), CatalogConstant::name);
		this.variables = byName(contents.variables(), CatalogVariable::name);
		this.types = byName(contents.types(), CatalogType::name);
	}

	/** The file's shape, as Jackson reads it. */
	@JsonIgnoreProperties(ignoreUnknown = true)
	record Contents(String dialect, List<DeviceModel> deviceModels, List<CatalogFunction> functions,
			List<CatalogConstant> constants, List<CatalogVariable> variables, List<CatalogType> types) {
	}

	/** Reads a catalog; {@code location} names it in errors. */
	public static IntrinsicCatalog read(InputStream in, String location) {
		try {
			return new IntrinsicCatalog(MAPPER.readValue(in, Contents.class));
		} catch (IOException e) {
			throw new UncheckedIOException("the intrinsic catalog " + location + " is malformed: " + e.getMessage(), e);
		}
	}

	private static <T> Map<String, T> byName(List<T> entries, Function<T, String> name) {
		Map<String, T> map = new LinkedHashMap<>();
		for (T entry : CatalogEntries.orEmpty(entries)) {
			map.putIfAbsent(name.apply(entry), entry);
		}
		return Map.copyOf(map);
	}

	public String dialect() {
		return dialect;
	}

	public Optional<CatalogFunction> function(String name) {
		return Optional.ofNullable(functions.get(name));
	}

	public Optional<CatalogConstant> constant(String name) {
		return Optional.ofNullable(constants.get(name));
	}

	public Optional<CatalogVariable> variable(String name) {
		return Optional.ofNullable(variables.get(name));
	}

	public Optional<CatalogType> type(String name) {
		return Optional.ofNullable(types.get(name));
	}

	/** Whether the catalog knows the name as anything at all. */
	public boolean knows(String name) {
		return functions.containsKey(name) || constants.containsKey(name) || variables.containsKey(name)
				|| types.containsKey(name);
	}

	public Collection<CatalogFunction> functions() {
		return functions.values();
	}

	public Collection<CatalogVariable> variables() {
		return variables.values();
	}

	public Collection<CatalogConstant> constants() {
		return constants.values();
	}

	public Collection<CatalogType> types() {
		return types.values();
	}

	public List<DeviceModel> deviceModels() {
		return deviceModels;
	}

	/** The model used unless the user picks another: the one marked default, else the first. */
	public Optional<DeviceModel> defaultDeviceModel() {
		return deviceModels.stream().filter(DeviceModel::isDefault).findFirst()
				.or(() -> deviceModels.stream().findFirst());
	}
}
