package org.epoll4j.examples.http;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A blocking HTTP/1.1 client on a raw socket: sends bytes as given, reads responses strictly. */
final class RawClient implements AutoCloseable {
    /** One response: status, headers (names lower-cased), body. */
    record Response(int status, String statusLine, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(10_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    RawClient send(String request) throws IOException {
        return send(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads one response with a body as its Content-Length says. */
    Response read() throws IOException {
        return read(false);
    }

    /**
     * Reads one response.
     *
     * @param noBody the request was HEAD (or the status has no body): Content-Length does not frame a body
     */
    Response read(boolean noBody) throws IOException {
        String statusLine = line();
        if (!statusLine.matches("HTTP/1\\.1 \\d{3} .*")) {
            throw new IOException("bad status line: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(); !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            String name = l.substring(0, colon).toLowerCase(Locale.ROOT);
            if (headers.put(name, l.substring(colon + 1).trim()) != null) {
                throw new IOException("repeated header " + name);
            }
        }
        byte[] body = new byte[0];
        String length = headers.get("content-length");
        if (!noBody && status != 304 && status >= 200 && length != null) {
            body = in.readNBytes(Integer.parseInt(length));
            if (body.length != Integer.parseInt(length)) {
                throw new EOFException("body cut short: " + body.length + " of " + length);
            }
        }
        return new Response(status, statusLine, headers, body);
    }

    /** Whether the server closed: the next read is EOF (waits up to the socket timeout). */
    boolean atEof() throws IOException {
        return in.read() == -1;
    }

    /** Everything until EOF. */
    byte[] readToEof() throws IOException {
        return in.readAllBytes();
    }

    /** Exactly {@code n} bytes. */
    byte[] bytes(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException("got " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** One CRLF-terminated line, without the CRLF. */
    String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("EOF in a response head after '" + b + "'");
            }
            if (c == '\n') {
                byte[] l = b.toByteArray();
                if (l.length == 0 || l[l.length - 1] != '\r') {
                    throw new IOException("bare LF in response head: " + b);
                }
                return new String(l, 0, l.length - 1, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
