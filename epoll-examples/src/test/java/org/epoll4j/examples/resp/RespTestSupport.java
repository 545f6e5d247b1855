package org.epoll4j.examples.resp;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An in-process resp server on an ephemeral port, and a raw-socket RESP client for the tests. */
final class RespTestSupport {
    private RespTestSupport() {
    }

    /** The server run by picocli on its own thread, stopped through its latch. */
    static final class Server implements AutoCloseable {
        private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");
        final RespServer resp = new RespServer();
        final int port;
        private final Capture out = new Capture();
        private final Capture err = new Capture();
        private final Thread thread;
        private final CompletableFuture<Integer> exit = new CompletableFuture<>();

        Server(String... args) throws Exception {
            resp.stop = new CountDownLatch(1);
            CommandLine cl = new CommandLine(resp);
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            List<String> all = new ArrayList<>(List.of("--port", "0"));
            all.addAll(List.of(args));
            thread = new Thread(() -> exit.complete(cl.execute(all.toArray(new String[0]))), "resp-test-server");
            thread.start();
            String first = CompletableFuture.anyOf(out.firstLine, exit).get(30, TimeUnit.SECONDS).toString();
            Matcher m = LISTENING.matcher(first);
            assertTrue(m.matches(), "first line: " + first + " err: " + err);
            port = Integer.parseInt(m.group(2));
        }

        Client connect() throws IOException {
            return new Client(port);
        }

        /** Stops the server and returns everything it printed after the listening line. */
        String stop() throws Exception {
            resp.stop.countDown();
            assertEquals(0, exit.get(30, TimeUnit.SECONDS), "exit status; err: " + err);
            thread.join(10_000);
            return out.toString();
        }

        @Override
        public void close() throws Exception {
            if (!exit.isDone()) {
                stop();
            }
        }
    }

    /** Collects printed text; completes {@link #firstLine} at the first newline. */
    static final class Capture extends Writer {
        final CompletableFuture<String> firstLine = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();

        @Override
        public synchronized void write(char[] cbuf, int off, int len) {
            text.append(cbuf, off, len);
            int nl = text.indexOf("\n");
            if (nl >= 0) {
                firstLine.complete(text.substring(0, nl).trim());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public synchronized String toString() {
            return text.toString();
        }
    }

    /** Marks a RESP3 null ({@code _}). */
    static final Object NULL3 = new Object() {
        @Override
        public String toString() {
            return "_";
        }
    };

    /** Marks a RESP null array ({@code *-1}). */
    static final Object NIL_ARRAY = new Object() {
        @Override
        public String toString() {
            return "*-1";
        }
    };

    /** A RESP3 push ({@code >}): its items. */
    static final class Push extends ArrayList<Object> {
    }

    /**
     * A blocking RESP client over a plain socket. Replies decode to: "+TEXT" (simple string), "-TEXT" (error),
     * Long (integer), String (bulk, one char per byte), null (null bulk), List (array), {@link #NIL_ARRAY}; RESP3's
     * map to a LinkedHashMap, set to a LinkedHashSet, null ({@code _}) to {@link #NULL3}, double to Double,
     * boolean to Boolean, verbatim text to its String, push to {@link Push}.
     */
    static final class Client implements AutoCloseable {
        final Socket socket = new Socket();
        final DataInputStream in;
        final OutputStream out;

        Client(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
            out = socket.getOutputStream();
        }

        /** RESP encoding of a request; each word a String (ISO-8859-1) or a byte[]. */
        static byte[] encode(Object... words) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(("*" + words.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            for (Object w : words) {
                byte[] bytes = w instanceof byte[] ? (byte[]) w : ((String) w).getBytes(StandardCharsets.ISO_8859_1);
                b.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                b.writeBytes(bytes);
                b.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            return b.toByteArray();
        }

        void send(byte[] raw) throws IOException {
            out.write(raw);
            out.flush();
        }

        void send(String raw) throws IOException {
            send(raw.getBytes(StandardCharsets.ISO_8859_1));
        }

        /** Sends one request and reads its reply. */
        Object call(Object... words) throws IOException {
            send(encode(words));
            return read();
        }

        Object read() throws IOException {
            int type = in.read();
            if (type < 0) {
                throw new EOFException("connection closed");
            }
            String line = line();
            switch (type) {
                case '+':
                    return "+" + line;
                case '-':
                    return "-" + line;
                case ':':
                    return Long.parseLong(line);
                case '$': {
                    int n = Integer.parseInt(line);
                    if (n < 0) {
                        return null;
                    }
                    byte[] b = new byte[n];
                    in.readFully(b);
                    assertEquals('\r', in.read());
                    assertEquals('\n', in.read());
                    return new String(b, StandardCharsets.ISO_8859_1);
                }
                case '*': {
                    int n = Integer.parseInt(line);
                    if (n < 0) {
                        return NIL_ARRAY;
                    }
                    List<Object> items = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        items.add(read());
                    }
                    return items;
                }
                case '_':
                    return NULL3;
                case ',':
                    return Double.parseDouble(line.replace("inf", "Infinity"));
                case '#':
                    return line.equals("t");
                case '=': {
                    byte[] b = new byte[Integer.parseInt(line)];
                    in.readFully(b);
                    assertEquals('\r', in.read());
                    assertEquals('\n', in.read());
                    return new String(b, 4, b.length - 4, StandardCharsets.ISO_8859_1); // after "txt:"
                }
                case '%': {
                    java.util.Map<Object, Object> m = new java.util.LinkedHashMap<>();
                    for (int i = Integer.parseInt(line); i > 0; i--) {
                        m.put(read(), read());
                    }
                    return m;
                }
                case '~': {
                    java.util.Set<Object> set = new java.util.LinkedHashSet<>();
                    for (int i = Integer.parseInt(line); i > 0; i--) {
                        set.add(read());
                    }
                    return set;
                }
                case '>': {
                    Push p = new Push();
                    for (int i = Integer.parseInt(line); i > 0; i--) {
                        p.add(read());
                    }
                    return p;
                }
                default:
                    throw new IOException("not a RESP reply type: " + (char) type + line);
            }
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            while (true) {
                int c = in.read();
                if (c < 0) {
                    throw new EOFException("connection closed mid-line: " + b);
                }
                if (c == '\r') {
                    assertEquals('\n', in.read());
                    return b.toString();
                }
                b.append((char) c);
            }
        }

        /** Whether the server closed the connection (EOF or reset) within the socket timeout, nothing else sent. */
        boolean closedByServer() throws IOException {
            try {
                int c = in.read();
                if (c >= 0) {
                    throw new AssertionError("expected EOF, got byte " + c);
                }
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }

        InputStream input() {
            return in;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Whether {@code program} can be run (on PATH). */
    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
