package org.epoll4j.examples.http;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * {@code --access-log FILE|-}: one line per response in the Common Log Format,
 * {@code 127.0.0.1 - - [02/Dec/2026:05:47:04 +0000] "GET / HTTP/1.1" 200 13}, appended to a file or written to
 * standard output. Shared by the reactors (lines are written whole under a lock); buffered, and flushed once per
 * read batch, so a busy server makes one write per batch rather than one per request. The write blocks the reactor
 * for as long as the file system takes: this is an example's log, not a production one.
 */
final class AccessLog implements AutoCloseable {
    private static final DateTimeFormatter CLF = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US)
            .withZone(ZoneOffset.UTC);

    private final OutputStream out;
    private final boolean closeIt;
    private final StringBuilder line = new StringBuilder(160);
    private long dateSecond = Long.MIN_VALUE;
    private String date;
    private boolean dirty;

    private AccessLog(OutputStream out, boolean closeIt) {
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.closeIt = closeIt;
    }

    /**
     * Opens the log.
     *
     * @param target a file name (appended to, created if missing), or {@code -} for standard output
     * @throws IOException if the file cannot be opened
     */
    static AccessLog open(String target) throws IOException {
        if (target.equals("-")) {
            return new AccessLog(System.out, false);
        }
        return new AccessLog(new FileOutputStream(target, true), true);
    }

    /**
     * Logs one response.
     *
     * @param host   the client's address
     * @param line   the request line, or null if there was none (a head that never parsed)
     * @param status the status sent
     * @param bytes  the body length announced, or a negative number if unknown (logged as {@code -})
     */
    synchronized void log(String host, String line, int status, long bytes) {
        long now = System.currentTimeMillis() / 1000;
        if (now != dateSecond) {
            dateSecond = now;
            date = CLF.format(Instant.ofEpochSecond(now));
        }
        StringBuilder b = this.line;
        b.setLength(0);
        b.append(host).append(" - - [").append(date).append("] ");
        if (line == null) {
            b.append('-');
        } else {
            b.append('"');
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (c == '"' || c == '\\') {
                    b.append('\\').append(c);
                } else if (c < 0x20 || c >= 0x7f) {
                    b.append(String.format("\\x%02x", (int) c)); // never a raw control byte in the log
                } else {
                    b.append(c);
                }
            }
            b.append('"');
        }
        b.append(' ').append(status).append(' ');
        if (bytes >= 0) {
            b.append(bytes);
        } else {
            b.append('-');
        }
        b.append('\n');
        try {
            out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
            dirty = true;
        } catch (IOException e) {
            // a full disk must not take the server down; the line is lost
        }
    }

    /** Writes out what is buffered; cheap when nothing was logged since the last call. */
    synchronized void flush() {
        if (!dirty) {
            return;
        }
        dirty = false;
        try {
            out.flush();
        } catch (IOException e) {
            // as above
        }
    }

    @Override
    public synchronized void close() throws IOException {
        out.flush();
        if (closeIt) {
            out.close();
        }
    }
}
