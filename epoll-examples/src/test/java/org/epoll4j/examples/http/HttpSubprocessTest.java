package org.epoll4j.examples.http;

import org.epoll4j.examples.Main;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The http program as its own JVM, started through Main: serves, then stops on SIGTERM with its summary; in both
 * modes (callbacks and {@code --blocking}).
 */
@Timeout(60)
class HttpSubprocessTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    @ParameterizedTest(name = "blocking={0}")
    @ValueSource(booleans = {false, true})
    void servesAndStopsCleanlyOnSigterm(boolean blocking) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "http", "--port", "0", "--reactors", "2"));
        if (blocking) {
            cmd.add("--blocking");
        }
        Path stdout = Files.createTempFile("http", ".out"); // a file: reading a pipe after exit races the JDK
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(stdout).contains("\n")) { // observing the child: poll with a deadline
                assertTrue(p.isAlive(), "http exited early");
                assertTrue(System.nanoTime() < deadline, "no 'listening on' line within 30 s");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            Matcher m = LISTENING.matcher(Files.readAllLines(stdout).get(0));
            assertTrue(m.matches(), Files.readString(stdout));
            int port = Integer.parseInt(m.group(2));
            for (int i = 0; i < 2; i++) {
                try (RawClient c = new RawClient(port)) {
                    assertEquals("Hello, World!", c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
                    assertEquals(404, c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
                }
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exits after SIGTERM");
            assertEquals(143, p.exitValue());
            List<String> all = Files.readAllLines(stdout);
            assertEquals(List.of("http: stopped; 2 connections, 4 requests, 0 errors"), all.subList(1, all.size()));
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(stdout);
        }
    }
}
