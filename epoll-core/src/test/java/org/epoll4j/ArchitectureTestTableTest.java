package org.epoll4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/architecture.md's test table lists every test class of epoll-core (what surefire runs: {@code *Test},
 * {@code *Tests}, {@code *Properties}) and no class that no longer exists, so a reader can trust it.
 */
@Timeout(30)
class ArchitectureTestTableTest {
    private static final Path TESTS = Path.of("src", "test", "java", "org", "epoll4j");
    private static final Path DOC = Path.of("..", "docs", "architecture.md");
    /** A table row's first cell: `internal.LibCTest`, `ReactorTest`, `net.TlsTest`. */
    private static final Pattern ROW = Pattern.compile("^\\| `([\\w.]+)` \\|", Pattern.MULTILINE);

    @Test
    void theTableListsEveryTestClassAndNothingElse() throws IOException {
        assertTrue(Files.isDirectory(TESTS) && Files.isRegularFile(DOC),
                "run from epoll-core (surefire's working directory): " + Path.of("").toAbsolutePath());
        Set<String> classes = new TreeSet<>();
        try (Stream<Path> files = Files.walk(TESTS)) {
            files.map(p -> TESTS.relativize(p).toString().replace('/', '.'))
                    .filter(n -> n.matches("(\\w+\\.)*\\w+(Test|Tests|Properties)\\.java"))
                    .forEach(n -> classes.add(n.substring(0, n.length() - ".java".length())));
        }
        Set<String> listed = new TreeSet<>();
        String doc = Files.readString(DOC);
        int from = doc.indexOf("\n## Tests\n");
        assertTrue(from >= 0, "docs/architecture.md has a '## Tests' section");
        int to = doc.indexOf("\n## ", from + 1);
        Matcher m = ROW.matcher(doc.substring(from, to < 0 ? doc.length() : to));
        while (m.find()) {
            listed.add(m.group(1));
        }
        Set<String> missing = new TreeSet<>(classes);
        missing.removeAll(listed);
        Set<String> gone = new TreeSet<>(listed);
        gone.removeAll(classes);
        assertEquals(Set.of(), missing, "test classes without a row in docs/architecture.md's test table");
        assertEquals(Set.of(), gone, "rows in docs/architecture.md's test table naming no test class");
    }
}
