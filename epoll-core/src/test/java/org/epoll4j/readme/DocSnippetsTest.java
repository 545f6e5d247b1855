package org.epoll4j.readme;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@code ```java} block of README.md and docs/*.md compiles against the current API. The convention (also in
 * docs/architecture.md, "Code in the docs"):
 * <ul>
 *   <li>a block that starts with {@code import} or {@code package}, or declares a top-level type (a line starting
 *       with {@code public final class}, {@code public class}, {@code public interface} ...), is a compilation unit;
 *       the common imports below are added to one without a {@code package};</li>
 *   <li>a block that starts with a method declaration ({@code public void onData(...)}, {@code public boolean ...})
 *       is class members: it goes inside a class that has the givens;</li>
 *   <li>any other block is a method body, inside a method that may throw anything, in that same class.</li>
 * </ul>
 * The givens, fields every member or body block can use: {@code reactor} (Reactor), {@code group} (ReactorGroup),
 * {@code pool} (ExecutorService), {@code c} (Connection), {@code handler} (ConnectionHandler), {@code addr}
 * (InetSocketAddress), {@code header}, {@code body}, {@code response} (ByteBuffer), {@code fd} (int),
 * {@code sslContext} (SSLContext), a class {@code MyHandler} (a ConnectionHandler), and methods
 * {@code String slowLookup(String)} and {@code byte[] compute(byte[])}. The common imports: {@code org.epoll4j.*},
 * {@code org.epoll4j.net.*}, {@code java.net.*},
 * {@code java.nio.ByteBuffer}, {@code java.nio.charset.StandardCharsets}, {@code java.nio.file.Path},
 * {@code java.time.Duration}, {@code java.util.*}, {@code java.util.concurrent.*}, {@code javax.net.ssl.SSLContext}. A partial illustration
 * that cannot compile must not be tagged {@code java}.
 */
@Timeout(120)
class DocSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern TYPE = Pattern.compile(
            "(?m)^(public |abstract |final )*(class|interface|record|enum) (\\w+)");
    private static final Pattern MEMBER = Pattern.compile(
            "^(public |protected |private |static |default |final |synchronized )*[\\w<>\\[\\], ?]+ \\w+\\(.*");

    static final String IMPORTS = String.join("\n",
            "import org.epoll4j.*;",
            "import org.epoll4j.net.*;",
            "import java.net.*;",
            "import java.nio.ByteBuffer;",
            "import java.nio.charset.StandardCharsets;",
            "import java.nio.file.Path;",
            "import java.time.Duration;",
            "import java.util.*;",
            "import java.util.concurrent.*;",
            "import javax.net.ssl.SSLContext;",
            "");

    private static final String GIVENS = String.join("\n",
            "    Reactor reactor; ReactorGroup group; ExecutorService pool; Connection c; ConnectionHandler handler;",
            "    InetSocketAddress addr; ByteBuffer header, body, response; int fd; SSLContext sslContext;",
            "    static class MyHandler implements ConnectionHandler {",
            "        public void onData(Connection c, ByteBuffer data) { }",
            "    }",
            "    String slowLookup(String request) { return request; }",
            "    byte[] compute(byte[] request) { return request; }",
            "");

    /** One block: where it is, and the Java source it becomes. */
    record Snippet(String doc, int line, String className, String source) {
    }

    static List<Path> docs() throws Exception {
        List<Path> docs = new ArrayList<>();
        docs.add(Path.of("../README.md"));
        try (Stream<Path> s = Files.list(Path.of("../docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    static List<Snippet> snippets() throws Exception {
        List<Snippet> all = new ArrayList<>();
        for (Path doc : docs()) {
            String text = Files.readString(doc);
            Matcher m = BLOCK.matcher(text);
            while (m.find()) {
                int line = 1 + (int) text.substring(0, m.start()).chars().filter(ch -> ch == '\n').count();
                String name = doc.getFileName().toString().replace(".md", "").replaceAll("\\W", "_")
                        .toLowerCase(Locale.ROOT);
                all.add(toSource(doc.normalize().toString(), line, "snippets." + name + "_l" + line, m.group(1)));
            }
        }
        return all;
    }

    static Snippet toSource(String doc, int line, String pkg, String block) {
        String first = block.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("//"))
                .findFirst().orElse("");
        Matcher type = TYPE.matcher(block);
        if (first.startsWith("package ")) {
            Matcher p = Pattern.compile("package ([\\w.]+);").matcher(block);
            p.find();
            type.find();
            return new Snippet(doc, line, p.group(1) + "." + type.group(3), block);
        }
        if (first.startsWith("import ") || type.find()) {
            type.reset();
            if (!type.find()) {
                throw new AssertionError(doc + ":" + line + ": a block of imports declares no type");
            }
            // Header lines sit above the block's own text, so javac's line numbers are offset by a known amount.
            return new Snippet(doc, line, pkg + "." + type.group(3), "package " + pkg + "; " + IMPORTS.replace(
                    "\n", " ") + "\n" + block);
        }
        String inner = MEMBER.matcher(first).matches() && !first.contains("=") && !first.startsWith("return")
                ? block
                : "    void snippet() throws Throwable {\n" + block + "\n    }\n";
        String src = "package " + pkg + "; " + IMPORTS.replace("\n", " ") + "abstract class Snippet {"
                + GIVENS.replace("\n", " ") + "\n" + inner + "}\n";
        return new Snippet(doc, line, pkg + ".Snippet", src);
    }

    @Test
    void everyJavaBlockInTheDocsCompiles() throws Exception {
        List<Snippet> snippets = snippets();
        assertTrue(snippets.size() >= 10, "found only " + snippets.size() + " java blocks: is the pattern right?");
        List<String> errors = compile(snippets);
        if (!errors.isEmpty()) {
            fail(errors.size() + " error(s) in the docs' java blocks (convention: DocSnippetsTest, "
                    + "docs/architecture.md):\n" + String.join("\n", errors));
        }
    }

    /** Compiles the snippets together; returns the errors as "doc:line: message". */
    static List<String> compile(List<Snippet> snippets) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<JavaFileObject> units = new ArrayList<>();
        for (Snippet s : snippets) {
            units.add(new SimpleJavaFileObject(URI.create("string:///" + s.className().replace('.', '/')
                    + JavaFileObject.Kind.SOURCE.extension), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return s.source();
                }
            });
        }
        Path out = Files.createTempDirectory("doc-snippets");
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            List<String> options = List.of("-d", out.toString(), "-classpath", classPath(), "-proc:none",
                    "-Xlint:none", "--release", "17");
            boolean ok = javac.getTask(null, files, diagnostics, options, null, units).call();
            List<String> errors = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() != Diagnostic.Kind.ERROR) {
                    continue;
                }
                String where = "?";
                for (Snippet s : snippets) {
                    if (d.getSource() != null && d.getSource().toUri().getPath()
                            .equals("/" + s.className().replace('.', '/') + ".java")) {
                        // header lines (package and imports on one line, the givens) precede the block's text
                        int header = s.source().startsWith("package " + s.className().substring(0,
                                s.className().lastIndexOf('.')) + "; import") ? 1 : 0;
                        int extra = s.className().endsWith(".Snippet") ? 1 + (s.source().contains(
                                "void snippet()") ? 1 : 0) : header;
                        where = s.doc() + ":" + (s.line() + (int) d.getLineNumber() - extra);
                    }
                }
                errors.add(where + ": " + d.getMessage(Locale.ROOT).lines().findFirst().orElse(""));
            }
            if (!ok && errors.isEmpty()) {
                errors.add("javac failed without an error diagnostic");
            }
            return errors;
        } finally {
            try (Stream<Path> walk = Files.walk(out)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The test class path, plus where the library and its dependencies were loaded from (surefire may hide them
     *  behind a manifest-only jar). */
    static String classPath() throws Exception {
        Set<String> entries = new LinkedHashSet<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        for (Class<?> k : List.of(org.epoll4j.Reactor.class, com.sun.jna.Native.class, DocSnippetsTest.class)) {
            entries.add(Path.of(k.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        return String.join(File.pathSeparator, entries);
    }
}
