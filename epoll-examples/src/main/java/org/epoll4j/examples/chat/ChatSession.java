package org.epoll4j.examples.chat;

import org.epoll4j.net.ClosedConnectionException;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.FrameTooLongException;
import org.epoll4j.net.LineDecoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * One chat user: cuts the connection's bytes into lines with a {@link LineDecoder}, runs commands, and receives
 * other users' lines on its own reactor thread. A user whose unsent output passes the queue bound (the high write
 * watermark) is cut off, so one reader that stopped reading never makes the others wait or the server grow.
 */
final class ChatSession implements ConnectionHandler {
    /** How long a user whose line was too long may go on sending before the connection is closed anyway. */
    static final Duration LINGER = Duration.ofSeconds(2);

    private final ChatRoom room;
    private final LineDecoder lines;
    private Connection connection;
    /** Set once the user sent an overlong line: the rest of its input is read and dropped until it hangs up. */
    private boolean rejected;
    /** Written on this session's reactor thread; read by /who on any thread. */
    volatile String nick;

    ChatSession(ChatRoom room, int maxLine) {
        this.room = room;
        this.lines = new LineDecoder(maxLine);
    }

    /** The connection (after {@link #onOpen}). */
    Connection connection() {
        return connection;
    }

    @Override
    public void onOpen(Connection c) {
        connection = c;
        room.join(this);
    }

    @Override
    public void onData(Connection c, ByteBuffer data) throws Exception {
        if (rejected) {
            data.position(data.limit()); // lingering: drain so our close sends FIN, not RST
            return;
        }
        try {
            lines.decode(c, data, (conn, line) -> onLine(StandardCharsets.UTF_8.decode(line).toString()));
        } catch (FrameTooLongException e) {
            reject(e);
        }
    }

    /**
     * An overlong line: answer with an error, send FIN, and keep reading (and dropping) what the user still sends
     * until it hangs up or {@link #LINGER} passes; closing with unread input would send RST, and the user could
     * lose the error line.
     */
    private void reject(FrameTooLongException e) {
        rejected = true;
        room.leave(this, "left (line too long)");
        send("! line too long (limit " + e.limit() + " bytes); closing");
        connection.shutdownOutput();
        Connection c = connection;
        try {
            c.reactor().schedule(LINGER, c::close);
        } catch (RejectedExecutionException shuttingDown) {
            c.close();
        }
    }

    private void onLine(String raw) {
        String line = ChatRoom.printable(raw);
        if (line.isBlank()) {
            return;
        }
        if (!line.startsWith("/")) {
            room.say(this, line);
            return;
        }
        int space = line.indexOf(' ');
        String command = space < 0 ? line : line.substring(0, space);
        String arg = space < 0 ? "" : line.substring(space + 1).strip();
        switch (command) {
            case "/nick": {
                String error = room.rename(this, arg);
                send(error != null ? error : "* you are now " + nick);
                break;
            }
            case "/who":
                send(room.who());
                break;
            case "/quit":
                send("* bye");
                room.leave(this, "left");
                connection.close(); // graceful: "* bye" goes out first
                break;
            default:
                send("! unknown command " + command + " (try /nick NAME, /who, /quit)");
        }
    }

    /** Writes a line to this user; on its reactor thread. */
    void send(String line) {
        deliver0((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Hands {@code line} (never modified by anyone) to this user: written here if we are on its reactor thread,
     * else queued to that thread, so only that thread touches the connection's queue and the bound check is exact.
     */
    void deliver(byte[] line) {
        Connection c = connection;
        if (c.reactor().inEventLoop()) {
            deliver0(line);
            return;
        }
        try {
            c.reactor().execute(() -> deliver0(line));
        } catch (RejectedExecutionException shuttingDown) {
            // its reactor is closing: the user is about to be disconnected anyway
        }
    }

    private void deliver0(byte[] line) {
        Connection c = connection;
        if (!c.isOpen() || c.isOutputShutdown()) {
            return;
        }
        try {
            c.write(ByteBuffer.wrap(line)); // past the high watermark this calls onWritabilityChanged(false)
        } catch (ClosedConnectionException closing) {
            // closing after /quit or an error: the line is not for it any more
        }
    }

    @Override
    public void onWritabilityChanged(Connection c, boolean writable) {
        if (!writable) {
            room.slowDropped();
            room.leave(this, "was disconnected: not reading (over " + c.config().highWatermark()
                    + " bytes queued)");
            c.closeWith(new SlowClientException(c.queuedBytes(), c.config().highWatermark()));
        }
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        lines.release();
        if (cause == null) {
            room.leave(this, "left");
        } else {
            room.leave(this, "left (" + describe(cause) + ")");
        }
    }

    private static String describe(Throwable cause) {
        String m = cause.getMessage();
        return m != null ? m : cause.getClass().getSimpleName();
    }

    /** The reason a slow reader's connection ends with. */
    static final class SlowClientException extends IOException {
        private static final long serialVersionUID = 1L;

        SlowClientException(long queued, int bound) {
            super(queued + " bytes queued, over the bound of " + bound);
        }
    }
}
