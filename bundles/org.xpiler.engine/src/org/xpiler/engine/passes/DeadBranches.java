package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Statement;

/**
 * Removes a host wrapper's branches that compile-time values decide, as a compiler would: in sequential code
 * the runtime's status reads are success, so the error paths around them ({@code if (err != cudaSuccess)
 * { fprintf(stderr, ...); exit(1); }}, error-check macros' {@code do { ... } while (0)}) are dead, and
 * what they call (cudaGetErrorString, fprintf to stderr) has no counterpart on other targets.
 *
 * <pre>
 * before: cudaError_t err = 0; if (err != 0) { fprintf(stderr, "%s", cudaGetErrorString(err)); exit(1); }
 *         do { cudaError_t e = (0); if (e != 0) return; } while (0);
 * after:  (nothing)
 * </pre>
 */
final class DeadBranches {
	private final LaunchConstants constants;

	DeadBranches(LaunchConstants constants) {
		this.constants = constants;
	}

	/** Replaces each {@code if} whose condition folds by the branch it takes. */
	void removeDecided(CompoundStatement body) {
		List<EObject> nodes = new ArrayList<>();
		body.eAllContents().forEachRemaining(nodes::add);
		for (EObject node : nodes) {
			if (node instanceof IfStatement branch && EcoreUtil.isAncestor(body, branch)) {
				OptionalLong condition = constants.value(branch.getCondition());
				if (condition.isPresent()) {
					replace(branch, condition.getAsLong() != 0 ? branch.getThen() : branch.getElse());
				}
			}
		}
	}

	/**
	 * Removes what is left of an error-check macro once its branch and its runtime call are gone: a
	 * {@code do { ... } while (0)} that only declares variables, without calls.
	 */
	static void removeEmptyOnceLoops(CompoundStatement body) {
		List<EObject> nodes = new ArrayList<>();
		body.eAllContents().forEachRemaining(nodes::add);
		for (EObject node : nodes) {
			if (node instanceof DoStatement once && new ConstantFolder().fold(once.getCondition()).equals(OptionalLong.of(0))
					&& declarationsWithoutCalls(once.getBody())) {
				EcoreUtil.remove(once);
			}
		}
	}

	/** Puts {@code kept} (or nothing) where {@code branch} stands. */
	private static void replace(IfStatement branch, Statement kept) {
		if (kept == null) {
			CompoundStatement empty = KernelFactory.eINSTANCE.createCompoundStatement();
			EcoreUtil.replace(branch, empty);
			if (empty.eContainer() instanceof CompoundStatement block) {
				block.getStatements().remove(empty);
			}
		} else {
			EcoreUtil.replace(branch, kept);
		}
	}

	private static boolean declarationsWithoutCalls(Statement body) {
		List<Statement> statements = body instanceof CompoundStatement block ? block.getStatements() : List.of(body);
		return statements.stream().allMatch(s -> s instanceof DeclarationStatement && !Snippets.containsCall(s));
	}
}
