package org.epoll4j;

import com.sun.jna.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module descriptor exports the API ({@code org.epoll4j}, {@code org.epoll4j.net}) and hides the JNA binding
 * ({@code org.epoll4j.internal}); a program on the module path compiles against the API, cannot compile against the
 * binding, and runs a reactor. The rest of the suite runs on the class path, which proves the jar still works there.
 */
class ModuleDescriptorTest {
    private static final Set<String> API = Set.of("org.epoll4j", "org.epoll4j.net");
    private static final String INTERNAL = "org.epoll4j.internal";

    @Test
    void exportsExactlyTheApiPackages() throws Exception {
        ModuleDescriptor d = descriptor();
        assertEquals("org.epoll4j", d.name());
        assertFalse(d.isOpen(), "an open module would give reflective access to the binding");
        assertFalse(d.isAutomatic());
        for (ModuleDescriptor.Exports e : d.exports()) {
            assertFalse(e.isQualified(), () -> "qualified export " + e);
        }
        assertEquals(API, d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()));
        assertTrue(d.packages().contains(INTERNAL), "the binding is in the module: " + d.packages());
        assertEquals(Set.of(), d.opens(), "no package is opened");
        // a new package must be exported or hidden on purpose, not by forgetting the descriptor
        Set<String> hidden = d.packages().stream().filter(p -> !API.contains(p)).collect(Collectors.toSet());
        assertEquals(Set.of(INTERNAL), hidden);
        assertTrue(d.requires().stream().anyMatch(r -> r.name().equals("com.sun.jna")), () -> "" + d.requires());
    }

    @Test
    @Timeout(120)
    void aModularProgramCompilesAgainstTheApiButNotTheBinding(@TempDir Path dir) throws Exception {
        String api = """
                package app;

                import org.epoll4j.Reactor;
                import org.epoll4j.net.ConnectionConfig;

                public class Main {
                    public static void main(String[] args) throws Exception {
                        try (Reactor reactor = Reactor.open()) {
                            reactor.execute(() -> System.out.println("ran on the loop"));
                            reactor.poll(java.time.Duration.ZERO);
                        }
                        System.out.println(ConnectionConfig.defaults() != null ? "ok" : "no config");
                    }
                }
                """;
        Compilation good = compile(dir.resolve("good"), api);
        assertEquals(0, good.exitCode, good.output);

        String binding = """
                package app;

                public class Main {
                    public static void main(String[] args) {
                        System.out.println(org.epoll4j.internal.LibC.close(-1));
                    }
                }
                """;
        Compilation bad = compile(dir.resolve("bad"), binding);
        assertNotEquals(0, bad.exitCode, "compiled against the unexported binding:\n" + bad.output);
        assertTrue(bad.output.contains("package org.epoll4j.internal is not visible")
                || bad.output.contains("does not export org.epoll4j.internal"), bad.output);

        // and the compiled program runs on the module path: JNA's binding works inside the named module
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=com.sun.jna");
        }
        command.addAll(List.of("--module-path", modulePath(good.classes), "--module", "app/app.Main"));
        Path log = dir.resolve("run.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the modular program did not finish in 60 s");
        } finally {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ran on the loop") && out.contains("ok"), out);
    }

    private record Compilation(int exitCode, String output, Path classes) {
    }

    /** Compiles module {@code app} (which requires org.epoll4j) with {@code main} as app.Main, in-process. */
    private static Compilation compile(Path root, String main) throws IOException, URISyntaxException {
        Path src = Files.createDirectories(root.resolve("src/app"));
        Files.writeString(src.resolve("module-info.java"), "module app { requires org.epoll4j; }\n");
        Files.createDirectories(src.resolve("app"));
        Files.writeString(src.resolve("app/Main.java"), main);
        Path classes = root.resolve("classes");
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new AssertionError("no javac"));
        StringWriter output = new StringWriter();
        try (PrintWriter w = new PrintWriter(output)) {
            int rc = javac.run(w, w, "--release", "17", "-d", classes.toString(),
                    "--module-path", modulePath(null),
                    src.resolve("module-info.java").toString(), src.resolve("app/Main.java").toString());
            w.flush();
            return new Compilation(rc, output.toString(), classes);
        }
    }

    /** epoll4j's compiled classes (with their module-info.class), JNA's jar, and {@code extra} if given. */
    private static String modulePath(Path extra) throws URISyntaxException {
        List<String> entries = new ArrayList<>(List.of(location(Reactor.class), location(Native.class)));
        if (extra != null) {
            entries.add(extra.toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static String location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** The descriptor as the module system sees epoll4j's compiled classes (with their packages, found by scanning). */
    private static ModuleDescriptor descriptor() throws URISyntaxException {
        Path where = Path.of(location(Reactor.class));
        assertTrue(Files.isRegularFile(where.resolve("module-info.class")), "no module-info.class in " + where);
        return ModuleFinder.of(where).find("org.epoll4j")
                .orElseThrow(() -> new AssertionError("no module org.epoll4j in " + where)).descriptor();
    }
}
