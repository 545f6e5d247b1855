package org.epoll4j.examples.loadgen;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code --protocol http}: keep-alive {@code GET PATH HTTP/1.1} requests (pipelined up to the depth), and responses
 * parsed properly: the status line, the header fields (Content-Length, Transfer-Encoding: chunked, Connection:
 * close), then the body framed by Content-Length or by chunks (with trailers), so that pipelined responses are
 * counted one by one. A {@code Connection: close} response or a status of 400 and up counts as a failure; a response
 * that cannot be parsed fails the connection.
 */
final class HttpProtocol implements Protocol {
    private static final int MAX_HEAD = 64 * 1024;

    private static final int HEAD = 0;
    private static final int BODY = 1;
    private static final int CHUNK_SIZE = 2;
    private static final int CHUNK_DATA = 3;
    private static final int CHUNK_CRLF = 4;
    private static final int TRAILER = 5;

    private final byte[] request;
    private final byte[] line = new byte[MAX_HEAD];
    private int lineLength;
    private int state = HEAD;
    private boolean statusSeen;
    private int status;
    private long contentLength;
    private boolean chunked;
    private long remaining;
    private long failures;

    /**
     * @param host the Host header's value
     * @param path the request target, starting with {@code /}
     */
    HttpProtocol(String host, String path) {
        request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public int maxRequestBytes() {
        return request.length;
    }

    @Override
    public void request(ByteBuffer out) {
        out.put(request);
    }

    @Override
    public long failures() {
        return failures;
    }

    @Override
    public int responses(ByteBuffer in) throws IOException {
        int done = 0;
        while (in.hasRemaining()) {
            switch (state) {
                case BODY:
                case CHUNK_DATA: {
                    int take = (int) Math.min(remaining, in.remaining());
                    in.position(in.position() + take);
                    remaining -= take;
                    if (remaining == 0) {
                        if (state == BODY) {
                            done++;
                            state = HEAD;
                        } else {
                            state = CHUNK_CRLF;
                        }
                    }
                    break;
                }
                default: {
                    if (!readLine(in)) {
                        break; // the rest of the line comes with the next read
                    }
                    if (lineFinished(line, lineLength)) {
                        done++;
                    }
                    lineLength = 0;
                }
            }
        }
        return done;
    }

    /** Collects bytes up to and including LF; true when a whole line is in {@link #line}. */
    private boolean readLine(ByteBuffer in) throws IOException {
        while (in.hasRemaining()) {
            byte b = in.get();
            if (lineLength == line.length) {
                throw new IOException("a response line longer than " + MAX_HEAD + " bytes");
            }
            line[lineLength++] = b;
            if (b == '\n') {
                if (lineLength < 2 || line[lineLength - 2] != '\r') {
                    throw new IOException("a bare LF in a response");
                }
                lineLength -= 2;
                return true;
            }
        }
        return false;
    }

    /** Acts on one line (without CRLF); true when it completed a response. */
    private boolean lineFinished(byte[] l, int n) throws IOException {
        switch (state) {
            case HEAD:
                if (!statusSeen) {
                    if (n < 12 || !is(l, 0, 7, "http/1.") || (l[7] != '0' && l[7] != '1') || l[8] != ' ') {
                        throw new IOException("not an HTTP/1.x status line: '" + ascii(l, 0, Math.min(n, 40)) + "'");
                    }
                    status = (int) decimal(l, 9, 12);
                    statusSeen = true;
                    contentLength = -1;
                    chunked = false;
                    return false;
                }
                if (n > 0) {
                    field(l, n);
                    return false;
                }
                statusSeen = false;
                if (status >= 400) {
                    failures++;
                }
                if (status < 200) {
                    return false; // 1xx: the final response follows
                }
                if (chunked) {
                    state = CHUNK_SIZE;
                    return false;
                }
                if (contentLength > 0 && status != 204 && status != 304) {
                    remaining = contentLength;
                    state = BODY;
                    return false;
                }
                if (contentLength < 0 && status != 204 && status != 304) {
                    throw new IOException("a keep-alive response without Content-Length or chunked framing");
                }
                return true;
            case CHUNK_SIZE: {
                int end = 0;
                while (end < n && l[end] != ';' && l[end] != ' ' && l[end] != '\t') {
                    end++;
                }
                long size = 0;
                if (end == 0 || end > 15) {
                    throw new IOException("bad chunk size line: '" + ascii(l, 0, Math.min(n, 40)) + "'");
                }
                for (int i = 0; i < end; i++) {
                    int d = Character.digit(l[i], 16);
                    if (d < 0) {
                        throw new IOException("bad chunk size: '" + ascii(l, 0, end) + "'");
                    }
                    size = size << 4 | d;
                }
                if (size == 0) {
                    state = TRAILER;
                } else {
                    remaining = size;
                    state = CHUNK_DATA;
                }
                return false;
            }
            case CHUNK_CRLF:
                if (n != 0) {
                    throw new IOException("chunk data longer than its size");
                }
                state = CHUNK_SIZE;
                return false;
            case TRAILER:
                if (n != 0) {
                    return false; // a trailer field: skipped
                }
                state = HEAD;
                return true;
            default:
                throw new IllegalStateException("state " + state);
        }
    }

    private void field(byte[] l, int n) throws IOException {
        int colon = 0;
        while (colon < n && l[colon] != ':') {
            colon++;
        }
        if (colon == n) {
            throw new IOException("a header line without a colon");
        }
        int vs = colon + 1;
        while (vs < n && (l[vs] == ' ' || l[vs] == '\t')) {
            vs++;
        }
        int ve = n;
        while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t')) {
            ve--;
        }
        if (is(l, 0, colon, "content-length")) {
            contentLength = decimal(l, vs, ve);
        } else if (is(l, 0, colon, "transfer-encoding")) {
            chunked = ve - vs >= 7 && is(l, ve - 7, ve, "chunked");
        } else if (is(l, 0, colon, "connection") && is(l, vs, ve, "close")) {
            failures++; // the server ends the keep-alive connection: the next requests will fail
        }
    }

    /** Whether {@code l[s, e)} is {@code lower} ignoring ASCII case (no allocation). */
    private static boolean is(byte[] l, int s, int e, String lower) {
        if (e - s != lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            int c = l[s + i];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static long decimal(byte[] l, int s, int e) throws IOException {
        long v = 0;
        if (s >= e || e - s > 18) {
            throw new IOException("bad number: '" + ascii(l, s, e) + "'");
        }
        for (int i = s; i < e; i++) {
            if (l[i] < '0' || l[i] > '9') {
                throw new IOException("bad number: '" + ascii(l, s, e) + "'");
            }
            v = v * 10 + (l[i] - '0');
        }
        return v;
    }

    private static String ascii(byte[] l, int s, int e) {
        return new String(l, s, e - s, StandardCharsets.ISO_8859_1);
    }
}
