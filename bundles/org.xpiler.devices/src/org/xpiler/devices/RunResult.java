package org.xpiler.devices;

import java.time.Duration;
import java.util.List;

import org.xpiler.core.vm.Argument;

/**
 * The buffers after a run, in parameter order (scalars are not repeated), and how long the kernel itself
 * ran (compilation and process start excluded where the device can tell).
 */
public record RunResult(String device, List<Argument.Buffer> buffers, Duration elapsed) {
}
