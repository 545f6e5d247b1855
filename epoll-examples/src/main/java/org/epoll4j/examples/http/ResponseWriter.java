package org.epoll4j.examples.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;

/**
 * Builds responses into one buffer (a direct one per reactor for the callback server, a heap one per connection for
 * {@code --blocking}), so that all the responses to one read's requests leave in one send ({@link #flush}). Caches
 * the Date header once per second, and keeps the whole {@code Hello, World!} keep-alive response as one precomputed
 * byte array. One thread at a time.
 */
final class ResponseWriter {
    /**
     * Where responses go: a connection's callbacks ({@link ConnectionState}, on the loop) or a blocking view
     * ({@link BlockingHttp}, on the connection's own thread).
     */
    interface Sink {
        /** Sends or queues all of {@code bytes}' remaining bytes (a blocking sink may wait for room). */
        void write(ByteBuffer bytes);

        /** Whether the connection still takes output. */
        boolean isOpen();

        /** Sends a file region after everything written so far. */
        void sendFile(Path path, long position, long count) throws IOException;

        /** Holds writes back until {@link #uncork()}, so that a head and its file leave together (default: no-op). */
        default void cork() {
        }

        /** Sends what {@link #cork()} held. */
        default void uncork() {
        }

        /** Ends the connection with a reset (a response that cannot be completed). */
        void abort();
    }

    /** No Connection header: the HTTP/1.1 default (keep-alive). */
    static final int PERSISTENT = 0;
    /** {@code Connection: keep-alive}, for an HTTP/1.0 client that asked for it. */
    static final int KEEP_ALIVE = 1;
    /** {@code Connection: close}: the server closes after this response. */
    static final int CLOSE = 2;
    /** A {@link #head}'s content length meaning {@code Transfer-Encoding: chunked}. */
    static final long CHUNKED = -2;

    static final byte[] HELLO = bytes("Hello, World!");
    private static final byte[] CONTINUE = bytes("HTTP/1.1 100 Continue\r\n\r\n");
    private static final byte[] SERVER_DATE = bytes("\r\nServer: epoll4j\r\nDate: ");
    private static final byte[] CRLF = bytes("\r\n");

    private final ByteBuffer out;
    private final byte[] date = new byte[HttpDates.LENGTH];
    private final byte[] lastModifiedScratch = new byte[HttpDates.LENGTH];
    private final byte[] hello;
    private final int helloDateAt;
    private final int helloHeadLength;
    private long dateSecond = Long.MIN_VALUE;
    /** Header lines for the next {@link #head} (each ending in CRLF); empty on the fast path. */
    private final StringBuilder extra = new StringBuilder(256);
    /** The status and body length of the last head built (the access log's fields; -1: unknown). */
    int lastStatus;
    long lastLength;

    /**
     * @param size   the buffer's size: responses leave once it fills, or at {@link #flush}
     * @param direct a direct buffer (the loop sends it without a copy) or a heap one
     */
    ResponseWriter(int size, boolean direct) {
        out = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
        String head = "HTTP/1.1 200 OK\r\nServer: epoll4j\r\nDate: " + "x".repeat(HttpDates.LENGTH)
                + "\r\nContent-Type: text/plain\r\nContent-Length: " + HELLO.length + "\r\n\r\n";
        helloHeadLength = head.length();
        helloDateAt = head.indexOf("Date: ") + 6;
        hello = new byte[helloHeadLength + HELLO.length];
        System.arraycopy(bytes(head), 0, hello, 0, helloHeadLength);
        System.arraycopy(HELLO, 0, hello, helloHeadLength, HELLO.length);
        tick();
    }

    /** Refreshes the cached Date when the second changed; call once per batch of requests. */
    void tick() {
        long now = System.currentTimeMillis() / 1000;
        if (now != dateSecond) {
            dateSecond = now;
            HttpDates.format(now, date, 0);
            System.arraycopy(date, 0, hello, helloDateAt, date.length);
        }
    }

    /** The precomputed {@code 200 Hello, World!} for a persistent HTTP/1.1 connection; only the head for HEAD. */
    void hello(Sink c, boolean headOnly) {
        int n = headOnly ? helloHeadLength : hello.length;
        lastStatus = 200;
        lastLength = HELLO.length;
        room(c, n);
        out.put(hello, 0, n);
    }

    /** Adds {@code name: value} to the next {@link #head} only. */
    void header(String name, String value) {
        extra.append(name).append(": ").append(value).append("\r\n");
    }

    /** {@code 100 Continue}: the client may send the body it announced with {@code Expect: 100-continue}. */
    void sendContinue(Sink c) {
        room(c, CONTINUE.length);
        out.put(CONTINUE);
    }

    /**
     * A response head.
     *
     * @param status        the status code
     * @param contentType   the Content-Type, or null for none
     * @param contentLength the Content-Length, -1 for none, or {@link #CHUNKED} for a chunked body
     * @param lastModified  Last-Modified in epoch seconds, or -1 for none
     * @param allow         the Allow header's value (405), or null
     * @param connection    {@link #PERSISTENT}, {@link #KEEP_ALIVE} or {@link #CLOSE}
     */
    void head(Sink c, int status, String contentType, long contentLength, long lastModified, String allow,
              int connection) {
        room(c, 512 + extra.length());
        ascii("HTTP/1.1 ");
        decimal(status);
        out.put((byte) ' ');
        ascii(reason(status));
        out.put(SERVER_DATE);
        out.put(date);
        out.put(CRLF);
        if (contentType != null) {
            ascii("Content-Type: ");
            ascii(contentType);
            out.put(CRLF);
        }
        lastStatus = status;
        lastLength = contentLength;
        if (contentLength >= 0) {
            ascii("Content-Length: ");
            decimal(contentLength);
            out.put(CRLF);
        } else if (contentLength == CHUNKED) {
            ascii("Transfer-Encoding: chunked\r\n");
        }
        if (extra.length() > 0) {
            for (int i = 0; i < extra.length(); i++) {
                out.put((byte) extra.charAt(i));
            }
            extra.setLength(0);
        }
        if (lastModified >= 0) {
            ascii("Last-Modified: ");
            HttpDates.format(lastModified, lastModifiedScratch, 0);
            out.put(lastModifiedScratch);
            out.put(CRLF);
        }
        if (allow != null) {
            ascii("Allow: ");
            ascii(allow);
            out.put(CRLF);
        }
        if (connection == KEEP_ALIVE) {
            ascii("Connection: keep-alive\r\n");
        } else if (connection == CLOSE) {
            ascii("Connection: close\r\n");
        }
        out.put(CRLF);
    }

    /** An error response with a one-line text body (none for HEAD). */
    void error(Sink c, int status, boolean headOnly, String allow, int connection) {
        String body = status + " " + reason(status) + "\n";
        head(c, status, "text/plain; charset=utf-8", body.length(), -1, allow, connection);
        if (!headOnly) {
            room(c, body.length());
            ascii(body);
        }
    }

    /** Body bytes, copied; flushes as the buffer fills. */
    void body(Sink c, byte[] a, int off, int len) {
        while (len > 0) {
            if (!out.hasRemaining()) {
                flush(c);
            }
            int n = Math.min(len, out.remaining());
            out.put(a, off, n);
            off += n;
            len -= n;
        }
    }

    /** One chunk of a chunked response body ({@code len > 0}), or the last chunk ({@code len == 0}). */
    void chunk(Sink c, byte[] a, int off, int len) {
        room(c, 20);
        hex(len);
        out.put(CRLF);
        if (len == 0) {
            out.put(CRLF); // no trailers
            return;
        }
        body(c, a, off, len);
        room(c, 2);
        out.put(CRLF);
    }

    private void hex(int v) {
        if (v >= 16) {
            hex(v >>> 4);
        }
        out.put((byte) "0123456789abcdef".charAt(v & 15));
    }

    /** Hands everything built so far to the connection (one send when the socket takes it). */
    void flush(Sink c) {
        if (out.position() == 0) {
            return;
        }
        out.flip();
        try {
            if (c.isOpen()) {
                c.write(out);
            }
        } finally {
            out.clear();
        }
    }

    /**
     * Everything built so far, then a region of a file with sendfile: corked, so that the library sends the bytes
     * in front of the file with MSG_MORE and the head shares its first segment with the file's first bytes.
     */
    void file(Sink c, Path path, long position, long count) throws IOException {
        c.cork();
        try {
            flush(c);
            c.sendFile(path, position, count);
        } finally {
            c.uncork();
        }
    }

    private void room(Sink c, int n) {
        if (out.remaining() < n) {
            flush(c);
        }
    }

    private void ascii(String s) { // no allocation: headers are ASCII
        for (int i = 0; i < s.length(); i++) {
            out.put((byte) s.charAt(i));
        }
    }

    private void decimal(long v) {
        if (v >= 10) {
            decimal(v / 10);
        }
        out.put((byte) ('0' + v % 10));
    }

    static String reason(int status) {
        switch (status) {
            case 100: return "Continue";
            case 200: return "OK";
            case 206: return "Partial Content";
            case 301: return "Moved Permanently";
            case 304: return "Not Modified";
            case 400: return "Bad Request";
            case 403: return "Forbidden";
            case 404: return "Not Found";
            case 405: return "Method Not Allowed";
            case 408: return "Request Timeout";
            case 413: return "Content Too Large";
            case 414: return "URI Too Long";
            case 416: return "Range Not Satisfiable";
            case 417: return "Expectation Failed";
            case 431: return "Request Header Fields Too Large";
            case 501: return "Not Implemented";
            case 505: return "HTTP Version Not Supported";
            default: return "Internal Server Error";
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
