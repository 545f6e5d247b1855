package org.epoll4j.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** An example program run through {@link Main} in a child JVM, its standard output going to a temporary file. */
public final class ChildJvm implements AutoCloseable {
    private final String program;
    private final Path stdout;
    private final Process process;

    private ChildJvm(String program, Path stdout, Process process) {
        this.program = program;
        this.stdout = stdout;
        this.process = process;
    }

    /** Starts {@code java ... Main program args...} with this JVM's class path; its stderr is discarded. */
    public static ChildJvm start(String program, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "--add-opens=java.base/java.lang=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                program));
        cmd.addAll(List.of(args));
        // stdout goes to a file: reading a pipe after the process exits races the JDK's draining of it.
        Path stdout = Files.createTempFile(program, ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            return new ChildJvm(program, stdout, p);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(stdout);
            throw e;
        }
    }

    /** The child process. */
    public Process process() {
        return process;
    }

    /** The file its standard output goes to. */
    public Path stdout() {
        return stdout;
    }

    /** Waits up to 30 s for the child's first whole line of output and returns it; fails if the child exits first. */
    public String firstLine() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) { // observing the child: poll its output with a deadline
            String text = Files.readString(stdout);
            if (text.contains("\n")) {
                return text.substring(0, text.indexOf('\n'));
            }
            assertTrue(process.isAlive(), program + " exited early with "
                    + (process.isAlive() ? 0 : process.exitValue()));
            assertTrue(System.nanoTime() < deadline, "no 'listening on' line within 30 s");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // poll interval, not a sync point
        }
    }

    /** Kills the child if it still runs and deletes its output file. */
    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        process.getOutputStream().close();
        process.getInputStream().close();
        Files.deleteIfExists(stdout);
    }
}
