package org.epoll4j.internal;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which binding {@link LibC} uses: the {@code epoll4j.binding} property, the default per Java version, the errors.
 *
 * <p>CI runs the whole suite once per binding and sets both {@code -Depoll4j.binding=X} (which surefire must pass
 * to this forked JVM) and the environment variable {@code EPOLL4J_EXPECT_BINDING=X} (which every child process
 * inherits): if the property got lost on the way, or the choice silently fell back, {@link #activeBinding()} fails.
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(30)
class BindingChoiceTest {
    private static final Runtime.Version JAVA_17 = Runtime.Version.parse("17.0.14+7");
    private static final Runtime.Version JAVA_21 = Runtime.Version.parse("21.0.6+7");
    private static final Runtime.Version JAVA_22 = Runtime.Version.parse("22");
    private static final Runtime.Version JAVA_25 = Runtime.Version.parse("25.0.3+9");

    @Test
    void activeBinding() {
        String requested = System.getProperty(BindingChoice.PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        String expected = System.getenv("EPOLL4J_EXPECT_BINDING");
        System.out.println("[binding] active=" + LibC.binding() + ", -D" + BindingChoice.PROPERTY + "='" + requested
                + "', EPOLL4J_EXPECT_BINDING=" + expected + ", java " + Runtime.version());
        if (expected != null && !expected.isBlank()) {
            assertEquals(expected.trim(), LibC.binding(), "EPOLL4J_EXPECT_BINDING (set by CI) names another binding"
                    + " than the active one; -D" + BindingChoice.PROPERTY + " was '" + requested + "'");
        }
        if (!requested.isEmpty()) {
            assertEquals(requested, LibC.binding());
        } else {
            // A Maven build on JDK 22+ compiles the FFM binding and puts it on the test class path.
            assertEquals(Runtime.version().feature() >= 22 ? "ffm" : "jna", LibC.binding());
        }
    }

    @Test
    void defaultIsFfmOnJava22AndLaterWhenTheJarHasIt() {
        assertEquals("jna", BindingChoice.choose(null, JAVA_17, false, "absent"));
        assertEquals("jna", BindingChoice.choose("", JAVA_21, false, "absent"));
        assertEquals("jna", BindingChoice.choose(" ", JAVA_25, false, "absent"));
        assertEquals("ffm", BindingChoice.choose(null, JAVA_22, true, ""));
        assertEquals("ffm", BindingChoice.choose("", JAVA_25, true, ""));
    }

    @Test
    void propertyOverridesTheDefault() {
        assertEquals("jna", BindingChoice.choose("jna", JAVA_25, true, ""));
        assertEquals("jna", BindingChoice.choose(" JNA ", JAVA_17, false, "absent"));
        assertEquals("ffm", BindingChoice.choose("FFM", JAVA_25, true, ""));
    }

    @Test
    void ffmBeforeJava22FailsNamingTheVersion() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> BindingChoice.choose("ffm", JAVA_17, false, "absent"));
        assertTrue(e.getMessage().contains("needs Java 22 or later"), e.getMessage());
        assertTrue(e.getMessage().contains("this is Java 17.0.14+7"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class, () -> BindingChoice.choose("ffm", JAVA_21, false, "x"));
        assertTrue(e.getMessage().contains("Java 21"), e.getMessage());
    }

    @Test
    void ffmWithoutTheClassSaysWhy() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> BindingChoice.choose("ffm", JAVA_25, false, "built on JDK 17"));
        assertTrue(e.getMessage().contains("Java 25.0.3+9: built on JDK 17"), e.getMessage());
    }

    @Test
    void anythingElseIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BindingChoice.choose("jni", JAVA_25, true, ""));
        assertEquals("epoll4j.binding must be 'jna' or 'ffm', not 'jni'", e.getMessage());
    }

    /** The property as a user sets it, in a fresh JVM: the error reaches the first use of {@link LibC}. */
    @Test
    void aFreshJvmUsesOrRejectsTheRequestedBinding() throws Exception {
        boolean ffmHere = Runtime.version().feature() >= 22;
        Child jna = Child.run("jna");
        assertEquals(0, jna.exit, jna.output);
        assertTrue(jna.output.contains("binding=jna"), jna.output);
        Child ffm = Child.run("ffm");
        if (ffmHere) {
            assertEquals(0, ffm.exit, ffm.output);
            assertTrue(ffm.output.contains("binding=ffm"), ffm.output);
        } else {
            assertEquals(1, ffm.exit, ffm.output);
            assertTrue(ffm.output.contains("epoll4j.binding=ffm needs Java 22 or later"), ffm.output);
            assertTrue(ffm.output.contains("this is Java " + Runtime.version()), ffm.output);
        }
        Child bad = Child.run("jnaa");
        assertEquals(1, bad.exit, bad.output);
        assertTrue(bad.output.contains("epoll4j.binding must be 'jna' or 'ffm', not 'jnaa'"), bad.output);
    }

    /** Main class of the child JVM: prints the active binding, or the reason there is none. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                System.out.println("binding=" + LibC.binding());
            } catch (Throwable t) {
                Throwable cause = t.getCause() != null ? t.getCause() : t;
                System.out.println("failed: " + cause);
                System.exit(1);
            }
        }
    }

    private static final class Child {
        final int exit;
        final String output;

        Child(int exit, String output) {
            this.exit = exit;
            this.output = output;
        }

        static Child run(String binding) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-XX:TieredStopAtLevel=1");
            if (Runtime.version().feature() >= 22) {
                cmd.add("--enable-native-access=ALL-UNNAMED");
            }
            cmd.add("-D" + BindingChoice.PROPERTY + "=" + binding);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(Probe.class.getName());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().remove("EPOLL4J_EXPECT_BINDING");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM did not exit: " + out);
            }
            // the JDK's process reaper closes these pipes on its own thread, some time after the exit: close them
            // here, or the fd-leak check may count them (it did once in CI)
            p.getOutputStream().close();
            p.getInputStream().close();
            p.getErrorStream().close();
            return new Child(p.exitValue(), "-D" + BindingChoice.PROPERTY + "=" + binding + ": " + out);
        }
    }
}
