package org.xpiler.lang.ast;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.emf.ecore.EAttribute;
import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.EReference;
import org.eclipse.emf.ecore.EStructuralFeature;
import org.eclipse.xtext.nodemodel.ICompositeNode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;

/**
 * A neutral view of one node of a kernel's syntax tree: its kind, its attributes (names, operators,
 * literals), where it starts in the file and its children by role. The command line's {@code parse --ast}
 * and the workbench's AST view both show this, so they always agree.
 *
 * @param role the containment feature of the parent that holds this node ({@code null} for the root)
 */
public record AstNode(String role, String kind, Map<String, Object> attributes, int line, int column,
		List<AstNode> children) {

	public static AstNode of(EObject object) {
		return of(null, object);
	}

	private static AstNode of(String role, EObject object) {
		Map<String, Object> attributes = new LinkedHashMap<>();
		List<AstNode> children = new ArrayList<>();
		for (EStructuralFeature feature : object.eClass().getEAllStructuralFeatures()) {
			if (!object.eIsSet(feature)) {
				continue;
			}
			Object value = object.eGet(feature);
			if (feature instanceof EAttribute) {
				attributes.put(feature.getName(), value);
			} else if (feature instanceof EReference reference && reference.isContainment()) {
				if (value instanceof List<?> list) {
					for (Object element : list) {
						children.add(of(feature.getName(), (EObject) element));
					}
				} else {
					children.add(of(feature.getName(), (EObject) value));
				}
			}
		}
		ICompositeNode node = NodeModelUtils.findActualNodeFor(object);
		int line = node == null ? 0 : node.getStartLine();
		int column = node == null ? 0 : columnOf(node);
		return new AstNode(role, object.eClass().getName(), attributes, line, column, children);
	}

	private static int columnOf(ICompositeNode node) {
		String text = node.getRootNode().getText();
		int offset = node.getOffset();
		int lineStart = text.lastIndexOf('\n', offset - 1) + 1;
		return offset - lineStart + 1;
	}

	/** An indented outline, one node per line: {@code role: Kind attr=value @line:column}. */
	public String toOutline() {
		StringBuilder out = new StringBuilder();
		appendOutline(out, 0);
		return out.toString();
	}

	private void appendOutline(StringBuilder out, int depth) {
		out.append("  ".repeat(depth));
		if (role != null) {
			out.append(role).append(": ");
		}
		out.append(kind);
		attributes.forEach((name, value) -> out.append(' ').append(name).append('=').append(value));
		out.append(" @").append(line).append(':').append(column).append('\n');
		for (AstNode child : children) {
			child.appendOutline(out, depth + 1);
		}
	}
}
