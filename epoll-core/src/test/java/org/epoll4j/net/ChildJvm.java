package org.epoll4j.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running a main class from the test classpath, talked to line by line over stdin/stdout. Closing it
 * kills the process (if still alive) and closes the pipes.
 */
final class ChildJvm implements AutoCloseable {
    private static final String EOF = "\u0000EOF";
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;
    private Path stderr;

    private ChildJvm(Process process) {
        this.process = process;
        this.reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process went away
            } finally {
                lines.add(EOF);
            }
        }, "child-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code main} in a new JVM; {@code prefix} (e.g. prlimit ...) goes before the java command.
     */
    static ChildJvm start(List<String> prefix, List<String> jvmArgs, Class<?> main, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xss1m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("child-" + main.getSimpleName(), ".stderr");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
        try {
            ChildJvm child = new ChildJvm(pb.start());
            child.stderr = log;
            return child;
        } catch (IOException e) {
            Files.deleteIfExists(log);
            throw e;
        }
    }

    long pid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    /** The next line the child prints that starts with {@code prefix} (others are skipped), within {@code timeout}. */
    String expect(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("child " + pid() + " printed no line starting with '" + prefix + "' within "
                        + timeout);
            }
            if (line.equals(EOF)) {
                lines.add(EOF);
                throw new AssertionError("child " + pid() + " ended before printing '" + prefix + "'; stderr: "
                        + stderr());
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /** What the child wrote to stderr so far (it goes to a temporary file, deleted on close). */
    String stderr() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Sends one command line to the child's stdin. */
    void send(String command) throws IOException {
        OutputStream out = process.getOutputStream();
        out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Closes the child's stdin (it reads EOF). */
    void closeStdin() throws IOException {
        process.getOutputStream().close();
    }

    /** User plus system CPU time of the child, in clock ticks (from /proc/PID/stat). */
    long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
    }

    @Override
    public void close() throws IOException {
        try {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            process.waitFor(10, TimeUnit.SECONDS);
            reader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.getOutputStream().close();
            process.getInputStream().close();
            Files.deleteIfExists(stderr);
        }
    }

    /** The soft and hard RLIMIT_NOFILE of this process, from /proc/self/limits. */
    static long[] openFileLimits() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (l.startsWith("Max open files")) {
                String[] f = l.substring("Max open files".length()).trim().split("\\s+");
                return new long[] {parseLimit(f[0]), parseLimit(f[1])};
            }
        }
        throw new IllegalStateException("no 'Max open files' in /proc/self/limits");
    }

    private static long parseLimit(String s) {
        return s.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(s);
    }
}
