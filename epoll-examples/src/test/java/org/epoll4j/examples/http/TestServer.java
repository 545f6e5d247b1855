package org.epoll4j.examples.http;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The http program run in-process on an ephemeral port, stopped with its test latch. */
final class TestServer implements AutoCloseable {
    /** Set by {@link BlockingMode}: every server started meanwhile runs with {@code --blocking}. */
    static volatile boolean blocking;
    /** Set by {@link OnReactorMode}: with {@link #blocking}, servers also run with {@code --on-reactor}. */
    static volatile boolean onReactor;

    /** As {@link BlockingMode}, with the handlers' virtual threads on the reactor ({@code --blocking --on-reactor}). */
    static final class OnReactorMode implements BeforeAllCallback, AfterAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            blocking = true;
            onReactor = true;
        }

        @Override
        public void afterAll(ExtensionContext context) {
            blocking = false;
            onReactor = false;
        }
    }

    /**
     * On a test class: its servers (those of the {@code @BeforeAll} it inherits included, since an extension's
     * callback runs before them) run with {@code --blocking}. Test classes run one at a time.
     */
    static final class BlockingMode implements BeforeAllCallback, AfterAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            blocking = true;
        }

        @Override
        public void afterAll(ExtensionContext context) {
            blocking = false;
        }
    }

    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    final HttpServer command = new HttpServer();
    final int port;
    private final StringBuffer output = new StringBuffer();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Thread thread;

    TestServer(String... args) throws Exception {
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Writer sink = new Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                output.append(buf, off, len);
                Matcher m = LISTENING.matcher(output);
                if (m.find()) {
                    listening.complete(Integer.parseInt(m.group(2)));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        command.stop = new CountDownLatch(1);
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(sink, true));
        cl.setErr(new PrintWriter(sink, true));
        boolean onThread = blocking && onReactor;
        String[] all = new String[args.length + (blocking ? 3 : 2) + (onThread ? 1 : 0)];
        all[0] = "--port";
        all[1] = "0";
        System.arraycopy(args, 0, all, 2, args.length);
        if (blocking) {
            all[args.length + 2] = "--blocking";
        }
        if (onThread) {
            all[all.length - 1] = "--on-reactor";
        }
        thread = new Thread(() -> {
            try {
                exit.complete(cl.execute(all));
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            } finally {
                listening.complete(-1);
            }
        }, "http-test-server");
        thread.start();
        port = listening.get(20, TimeUnit.SECONDS);
        if (port < 0) {
            throw new IllegalStateException("server did not start: " + output);
        }
    }

    /** The handler of the (single) reactor (not with {@code --blocking}). */
    HttpHandler handler() {
        return command.handlers.get(0);
    }

    /** The largest partial-head buffer of a connection so far (either mode). */
    int largestHeaderBuffer() {
        return command.blockingHttp != null ? command.blockingHttp.largestBuffer.get() : handler().largestHeaderBuffer();
    }

    /** What the server printed so far. */
    String output() {
        return output.toString();
    }

    @Override
    public void close() throws Exception {
        command.stop.countDown();
        assertEquals(0, exit.get(20, TimeUnit.SECONDS), output::toString);
        thread.join(10_000);
        assertFalse(thread.isAlive());
    }
}
