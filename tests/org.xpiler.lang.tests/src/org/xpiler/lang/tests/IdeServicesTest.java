package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.eclipse.emf.common.util.URI;
import org.eclipse.lsp4j.Hover;
import org.eclipse.lsp4j.HoverParams;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.TextDocumentIdentifier;
import org.eclipse.xtext.ide.editor.contentassist.ContentAssistContext;
import org.eclipse.xtext.ide.editor.contentassist.ContentAssistEntry;
import org.eclipse.xtext.ide.editor.contentassist.IdeContentProposalAcceptor;
import org.eclipse.xtext.ide.editor.contentassist.IdeContentProposalProvider;
import org.eclipse.xtext.ide.editor.contentassist.antlr.ContentAssistContextFactory;
import org.eclipse.xtext.ide.server.Document;
import org.eclipse.xtext.ide.server.hover.IHoverService;
import org.eclipse.xtext.resource.XtextResource;
import org.eclipse.xtext.resource.XtextResourceSet;
import org.eclipse.xtext.util.CancelIndicator;
import org.eclipse.xtext.util.TextRegion;
import org.junit.jupiter.api.Test;
import org.xpiler.lang.ide.BangIdeSetup;
import org.xpiler.lang.ide.CudaIdeSetup;

import com.google.inject.Injector;

/** Content assist and hover, as editors and the language server use them, read the intrinsic catalog. */
public class IdeServicesTest {
	private static final Injector CUDA = new CudaIdeSetup().createInjectorAndDoEMFRegistration();
	private static final Injector BANG = new BangIdeSetup().createInjectorAndDoEMFRegistration();

	private static XtextResource load(Injector injector, String name, String text) throws Exception {
		XtextResourceSet resourceSet = injector.getInstance(XtextResourceSet.class);
		XtextResource resource = (XtextResource) resourceSet.createResource(URI.createURI("inmemory:/" + name));
		resource.load(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), null);
		return resource;
	}

	private static List<ContentAssistEntry> proposals(Injector injector, String name, String text, int offset)
			throws Exception {
		XtextResource resource = load(injector, name, text);
		ExecutorService pool = Executors.newCachedThreadPool();
		try {
			ContentAssistContextFactory factory = injector.getInstance(ContentAssistContextFactory.class);
			factory.setPool(pool);
			ContentAssistContext[] contexts = factory.create(text, new TextRegion(offset, 0), offset, resource);
			IdeContentProposalAcceptor acceptor = injector.getInstance(IdeContentProposalAcceptor.class);
			injector.getInstance(IdeContentProposalProvider.class).createProposals(Arrays.asList(contexts), acceptor);
			List<ContentAssistEntry> entries = new ArrayList<>();
			acceptor.getEntries().forEach(entries::add);
			return entries;
		} finally {
			pool.shutdown();
		}
	}

	@Test
	public void contentAssistProposesTheDialectsIntrinsicsWithTheirSignatures() throws Exception {
		String text = "__global__ void k(float *a) {\n    __sync\n}\n";
		List<ContentAssistEntry> entries = proposals(CUDA, "k.cu", text, text.indexOf("__sync") + 6);
		List<String> names = entries.stream().map(ContentAssistEntry::getProposal).toList();
		assertTrue(names.contains("__syncthreads"), names::toString);
		assertFalse(names.contains("__sync_cluster"), "BANG's barrier is not proposed in CUDA: " + names);
		ContentAssistEntry syncthreads = entries.stream().filter(e -> e.getProposal().equals("__syncthreads"))
				.findFirst().orElseThrow();
		assertEquals("void __syncthreads()", syncthreads.getDescription());
	}

	@Test
	public void contentAssistProposesBuiltinsAndLocalsInBang() throws Exception {
		String text = "__nram__ float tile[64];\nextern \"C\" __mlu_global__ void k(float *a) {\n    int t = t\n}\n";
		List<String> names = proposals(BANG, "k.mlu", text, text.indexOf("t\n}") + 1).stream()
				.map(ContentAssistEntry::getProposal).toList();
		assertTrue(names.containsAll(List.of("taskId", "taskDim", "tile")), names::toString);
	}

	@Test
	public void hoverShowsTheCatalogEntry() throws Exception {
		String text = "__nram__ float x[64];\nextern \"C\" __mlu_global__ void k(float *a) {\n"
				+ "    __bang_add(x, x, x, 64);\n}\n";
		XtextResource resource = load(BANG, "h.mlu", text);
		Document document = new Document(1, text);
		HoverParams params = new HoverParams(new TextDocumentIdentifier("inmemory:/h.mlu"), new Position(2, 8));
		Hover hover = BANG.getInstance(IHoverService.class).hover(document, resource, params, CancelIndicator.NullImpl);
		String markdown = hover.getContents().getRight().getValue();
		assertTrue(markdown.contains("void __bang_add(T* dst, const T* src0, const T* src1, int n)"), markdown);
		assertTrue(markdown.contains("`T` is one of half, float, int32_t"), markdown);
		assertEquals(new Position(2, 4), hover.getRange().getStart());
	}
}
