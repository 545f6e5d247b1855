package org.epoll4j.examples.resp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/** KEYS/SCAN/PSUBSCRIBE glob matching as Redis's stringmatchlen, checked against an equivalent regular expression. */
@Timeout(60)
class GlobTest {
    private static final String[] TOKENS = {"a", "b", "*", "?", "[ab]", "[^a]", "[a-b]", "\\*", "\\?"};
    private static final String[] REGEX = {"a", "b", ".*", ".", "[ab]", "[^a]", "[a-b]", "\\*", "\\?"};

    private static boolean glob(String pattern, String text) {
        byte[] p = pattern.getBytes(StandardCharsets.ISO_8859_1);
        byte[] t = text.getBytes(StandardCharsets.ISO_8859_1);
        return Glob.matches(p, 0, p.length, t, 0, t.length, false);
    }

    @Test
    void matchesAsTheEquivalentRegularExpression() {
        qt().withExamples(3000).forAll(lists().of(integers().between(0, TOKENS.length - 1)).ofSizeBetween(0, 7),
                lists().of(integers().between(0, 3)).ofSizeBetween(0, 9)).checkAssert((tokens, chars) -> {
                    StringBuilder pattern = new StringBuilder();
                    StringBuilder regex = new StringBuilder();
                    for (int t : tokens) {
                        pattern.append(TOKENS[t]);
                        regex.append(REGEX[t]);
                    }
                    StringBuilder text = new StringBuilder();
                    for (int c : chars) {
                        text.append("ab*?".charAt(c));
                    }
                    boolean expected = Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(text).matches();
                    assertEquals(expected, glob(pattern.toString(), text.toString()),
                            "pattern " + pattern + " text " + text);
                });
    }

    @Test
    void cases() {
        assertTrue(glob("h?llo", "hello"));
        assertTrue(glob("h*llo", "heeeello"));
        assertTrue(glob("h[ae]llo", "hallo"));
        assertFalse(glob("h[^e]llo", "hello"));
        assertTrue(glob("h[a-b]llo", "hbllo"));
        assertTrue(glob("h\\*llo", "h*llo"));
        assertFalse(glob("h\\*llo", "hello"));
        assertTrue(Glob.matches("MAXMEM*", "maxmemory"), "CONFIG GET ignores case");
    }

    @Test
    void manyStarsDoNotBacktrackExponentially() {
        String text = "a".repeat(5000);
        String pattern = "a*".repeat(400) + "b";
        assertFalse(glob(pattern, text)); // bounded by the class's timeout: polynomial, not exponential
    }
}
