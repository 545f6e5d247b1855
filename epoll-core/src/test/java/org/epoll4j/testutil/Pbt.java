package org.epoll4j.testutil;

import org.junit.jupiter.api.function.Executable;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Gen;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Property-based testing with QuickTheories inside plain JUnit 5 {@code @Test} methods, with one seed policy for the
 * whole suite.
 *
 * <p>Every run prints its seed before the first example (so even a property stopped by a timeout can be replayed),
 * and QuickTheories prints it again with the shrunk counterexample on failure. To replay, pass the seed back:
 * {@code mvn -pl epoll-core test -Dtest='Class#method' -DQT_SEED=<seed>}; {@code -DQT_EXAMPLES=<n>} runs more (or
 * fewer) examples than a property's default.
 */
public final class Pbt {
    /** System property that fixes the seed (also the name QuickTheories itself reads). */
    public static final String SEED_PROPERTY = "QT_SEED";
    /** System property that overrides every property's number of examples. */
    public static final String EXAMPLES_PROPERTY = "QT_EXAMPLES";
    private static final int SHOWN_BYTES = 16;

    private Pbt() {
    }

    /**
     * A theory that runs {@code examples} examples (unless {@code -DQT_EXAMPLES} says otherwise) and spends at most
     * {@code shrinkCycles} attempts shrinking a counterexample; its seed is printed, and fixed by {@code -DQT_SEED}.
     */
    public static QuickTheory qt(int examples, int shrinkCycles) {
        String fixed = System.getProperty(SEED_PROPERTY);
        long seed = fixed == null || fixed.isBlank() ? System.nanoTime() : Long.parseLong(fixed.trim());
        int n = Integer.getInteger(EXAMPLES_PROPERTY, examples);
        StackWalker.StackFrame caller = StackWalker.getInstance()
                .walk(frames -> frames.skip(1).findFirst().orElseThrow());
        String name = caller.getClassName().substring(caller.getClassName().lastIndexOf('.') + 1)
                + "#" + caller.getMethodName();
        System.out.println("[property] " + name + ": " + n + " examples, seed " + seed
                + " (replay: -Dtest='" + name + "' -D" + SEED_PROPERTY + "=" + seed + ")");
        return QuickTheory.qt().withFixedSeed(seed).withExamples(n).withShrinkCycles(shrinkCycles);
    }

    /**
     * Runs {@code body}, rethrowing whatever it throws unchanged (checked exceptions included), so property bodies
     * that do I/O can be called from QuickTheories' non-throwing consumers; QuickTheories reports any throwable as a
     * falsification.
     */
    public static void run(Executable body) {
        try {
            body.execute();
        } catch (Throwable t) {
            throw Pbt.<RuntimeException>sneaky(t);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    /**
     * Arrays of {@code minLength..maxLength} uniformly random bytes, drawn as a length and a seed rather than byte by
     * byte: QuickTheories shrinks each drawn value separately, so thousands of byte draws would shrink slowly and
     * hardly at all, while a length shrinks at once (and a seed shrinks toward 0, which changes the bytes).
     */
    public static Gen<byte[]> randomBytes(int minLength, int maxLength) {
        return integers().between(minLength, maxLength).zip(longs().all(), (length, seed) -> {
            byte[] a = new byte[length];
            new SplittableRandom(seed).nextBytes(a);
            return a;
        });
    }

    /** {@code gen}, shown as each array's length and first bytes rather than as {@code [B@1b2c3d}. */
    public static Gen<List<byte[]>> showingBytes(Gen<List<byte[]>> gen) {
        return gen.describedAs(Pbt::show);
    }

    /** {@code arrays} as {@code [3:"ab\r", 0:"", 2999:"\x00\x00..."]}. */
    public static String show(List<byte[]> arrays) {
        return arrays.stream().map(Pbt::show).collect(Collectors.joining(", ", "[", "]"));
    }

    /** {@code a} as its length and its first bytes: printable ASCII as is, others as {@code \xNN}. */
    public static String show(byte[] a) {
        StringBuilder sb = new StringBuilder().append(a.length).append(":\"");
        for (int i = 0; i < Math.min(a.length, SHOWN_BYTES); i++) {
            int b = a[i] & 0xff;
            if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
                sb.append((char) b);
            } else {
                sb.append(String.format("\\x%02x", b));
            }
        }
        return sb.append(a.length > SHOWN_BYTES ? "...\"" : "\"").toString();
    }
}
