package org.epoll4j.examples;

import org.epoll4j.Reactor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --log-level} and {@code --blocked-loop-ms}: parsed, validated, and applied to logging and the reactors. */
@Timeout(30)
class EchoObservabilityOptionsTest {
    @Test
    void badValuesExitTwoWithAMessage() {
        String[][] bad = {{"--blocked-loop-ms", "0"}, {"--log-level", "loud"}};
        String[] says = {"--blocked-loop-ms must be at least 1: 0", "'loud' is not off, error, warning, info, debug"};
        for (int i = 0; i < bad.length; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = Main.run(new String[] {"echo", bad[i][0], bad[i][1]},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                            StandardCharsets.UTF_8));
            assertEquals(2, rc, String.join(" ", bad[i]));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains(says[i]), err.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void helpListsThem() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(new String[] {"echo", "--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err));
        String help = out.toString(StandardCharsets.UTF_8);
        assertTrue(help.contains("--log-level=LEVEL") && help.contains("--blocked-loop-ms=MS"), help);
    }

    @Test
    void appliedToTheEpoll4jLoggerAndEveryReactor() throws Exception {
        EchoServer echo = new EchoServer();
        new picocli.CommandLine(echo).parseArgs("--log-level", "trace", "--blocked-loop-ms", "250");
        Logger l = Logger.getLogger("org.epoll4j");
        Level before = l.getLevel();
        try {
            echo.options.applyLogging();
            assertEquals(Level.FINER, l.getLevel(), "System.Logger's TRACE is java.util.logging's FINER");
            Handler[] hs = l.getHandlers();
            assertEquals(1, hs.length);
            assertTrue(hs[0] instanceof ConsoleHandler && hs[0].getLevel() == Level.FINER);
            Reactor.Builder b = Reactor.builder().name("options-test");
            echo.options.reactorSettings(b);
            try (Reactor r = b.build()) {
                assertTrue(Thread.getAllStackTraces().keySet().stream()
                        .anyMatch(t -> t.getName().equals("epoll4j-watchdog")), "the watchdog runs for it");
                assertTrue(r.name().equals("options-test"));
            }
        } finally {
            for (Handler h : l.getHandlers()) {
                l.removeHandler(h);
            }
            l.setLevel(before);
            l.setUseParentHandlers(true);
        }
    }
}
