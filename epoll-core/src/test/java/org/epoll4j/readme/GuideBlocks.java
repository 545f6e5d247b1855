package org.epoll4j.readme;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks that docs/guide.md shows, verbatim, the blocks a test source marks between {@code // guide:NAME} and
 * {@code // end} (the test runs them; this keeps the guide from drifting away from what runs).
 */
final class GuideBlocks {
    private static final Path GUIDE = Path.of("../docs/guide.md");

    private GuideBlocks() {
    }

    /**
     * @param testSource the test's own source file, relative to epoll-core
     * @return how many marked blocks it has (each found in the guide, or the call fails naming the missing one)
     */
    static int assertGuideShows(Path testSource) throws IOException {
        String guide = Files.readString(GUIDE);
        List<String> lines = Files.readAllLines(testSource);
        int blocks = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith("// guide:")) {
                int indent = lines.get(i).indexOf('/');
                StringBuilder block = new StringBuilder();
                for (i++; !lines.get(i).trim().equals("// end"); i++) {
                    String l = lines.get(i);
                    block.append(l.length() >= indent ? l.substring(indent) : l.trim()).append('\n');
                }
                assertTrue(guide.contains("```java\n" + block + "```"), "docs/guide.md lacks:\n" + block);
                blocks++;
            }
        }
        return blocks;
    }
}
