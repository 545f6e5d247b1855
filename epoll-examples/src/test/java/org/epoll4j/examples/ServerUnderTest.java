package org.epoll4j.examples;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An example server run in-process through picocli on a thread of its own, its output captured; {@link #port()}
 * completes once it prints its "listening on HOST:PORT" line.
 */
public final class ServerUnderTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    private final CountDownLatch stop;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Thread thread;
    /** Texts a test waits for, each completed by the write that brings it into the output (guarded by out). */
    private final List<Map.Entry<String, CompletableFuture<String>>> awaited = new ArrayList<>();

    private ServerUnderTest(Object command, CountDownLatch stop, String... args) {
        this.stop = stop;
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(new Watching(), true));
        cl.setErr(new PrintWriter(err, true));
        thread = new Thread(() -> {
            int status = cl.execute(args);
            // A server that exits before listening fails port() at once instead of at its timeout.
            port.completeExceptionally(new AssertionError("the server exited with " + status + ": " + err));
            exit.complete(status);
        }, cl.getCommandName() + "-test-main"); // "chat-test-main": ChatServerTest's thread-leak check knows it
        thread.start();
    }

    /**
     * Runs {@code command} (a picocli command object whose run blocks until {@code stop} is counted down) with
     * {@code args}.
     */
    public static ServerUnderTest start(Object command, CountDownLatch stop, String... args) {
        return new ServerUnderTest(command, stop, args);
    }

    /** The port the server listens on, once it said so (waits up to 30 s). */
    public int port() throws Exception {
        return port.get(30, TimeUnit.SECONDS);
    }

    /** Asks the server to stop; it closes its connections gracefully. */
    public void requestStop() {
        stop.countDown();
    }

    /** Whether the server has exited. */
    public boolean exited() {
        return exit.isDone();
    }

    /** Waits up to 30 s for the server to exit and returns its exit status. */
    public int awaitExit() throws Exception {
        int status = exit.get(30, TimeUnit.SECONDS);
        thread.join(10_000);
        return status;
    }

    /** Everything the server printed to its standard output so far. */
    public String output() {
        synchronized (out) {
            return out.toString();
        }
    }

    /**
     * Waits up to 60 s for {@code expected} to appear in the standard output (e.g. a periodic flush's line) and
     * returns the output then; the write that brings it completes the wait, nothing polls.
     */
    public String awaitOutput(String expected) throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        synchronized (out) {
            if (out.toString().contains(expected)) {
                return out.toString();
            }
            awaited.add(Map.entry(expected, seen));
        }
        try {
            return seen.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no '" + expected + "' in output:\n" + output() + "\nerrors:\n" + errors());
        } finally {
            synchronized (out) {
                awaited.removeIf(w -> w.getValue() == seen);
            }
        }
    }

    /** Everything the server printed to its standard error so far. */
    public String errors() {
        return err.toString();
    }

    /** Captures the output and completes {@code port} once a whole listening line is in it. */
    private final class Watching extends Writer {
        @Override
        public void write(char[] cbuf, int off, int len) {
            synchronized (out) {
                out.write(cbuf, off, len);
                Matcher m = LISTENING.matcher(out.toString());
                if (m.find() && out.toString().indexOf('\n', m.end()) >= 0) {
                    port.complete(Integer.parseInt(m.group(2)));
                }
                for (Map.Entry<String, CompletableFuture<String>> w : awaited) {
                    if (out.toString().contains(w.getKey())) {
                        w.getValue().complete(out.toString());
                    }
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
