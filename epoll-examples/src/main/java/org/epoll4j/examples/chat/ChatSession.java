package org.epoll4j.examples.chat;

import org.epoll4j.net.ClosedConnectionException;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.EpollException;
import org.epoll4j.net.IdleState;
import org.epoll4j.net.SocketQueues;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.RejectedExecutionException;

/**
 * One chat user: cuts the connection's bytes into lines (at most {@code maxLine} bytes; a longer one is dropped
 * with an error, and the session goes on at the next line), paces them with a token bucket (a flooder's reading is
 * paused until its budget refills, and it is told), runs commands, and receives other users' lines on its own
 * reactor thread. A user whose unsent output passes the queue bound (the high write watermark) is cut off, so one
 * reader that stopped reading never makes the others wait or the server grow; the bound counts what the kernel holds
 * for the user too ({@link SocketQueues#unsentBytes}), not only what waits in the connection's queue.
 */
final class ChatSession implements ConnectionHandler {
    /** How long a turned-away user (room full) may go on sending before the connection is closed anyway. */
    static final Duration LINGER = Duration.ofSeconds(2);
    /** At most one flood warning per this many nanoseconds. */
    private static final long WARN_EVERY = TimeUnit.SECONDS.toNanos(10);

    private final ChatRoom room;
    private final int maxLine;
    private final ChatSettings settings;
    private final Runnable resume = this::resumeAfterPause;
    private Connection connection;
    /** The line being read: {@code maxLine} bytes plus room for a CR; allocated on first use. */
    private byte[] line;
    private int lineLength;
    /** Dropping the rest of an overlong line, up to its newline. */
    private boolean skipping;
    /** Turned away (room full): input is drained until the linger close. */
    private boolean rejected;
    /** Cut off for not reading. */
    private boolean cut;
    /** Input read but not yet processed while the flood pause lasts (reading is paused meanwhile). */
    private ByteBuffer held;
    private double tokens;
    private long refilledAt;
    private long warnedAt;
    /** Written on this session's reactor thread; read by /who on any thread. */
    volatile String nick;

    ChatSession(ChatRoom room, int maxLine) {
        this(room, maxLine, ChatSettings.UNLIMITED);
    }

    ChatSession(ChatRoom room, int maxLine, ChatSettings settings) {
        this.room = room;
        this.maxLine = maxLine;
        this.settings = settings;
        this.tokens = settings.floodBurst();
        this.refilledAt = System.nanoTime();
        this.warnedAt = refilledAt - WARN_EVERY;
    }

    /** The connection (after {@link #onOpen}). */
    Connection connection() {
        return connection;
    }

    @Override
    public void onOpen(Connection c) {
        connection = c;
        if (!room.join(this)) {
            rejected = true;
            send("! the chat is full (" + settings.maxUsers() + " users); try again later");
            lingerClose();
        }
    }

    @Override
    public void onData(Connection c, ByteBuffer data) {
        if (rejected) {
            data.position(data.limit()); // lingering: drain so our close sends FIN, not RST
            return;
        }
        if (held != null) {
            held = append(held, data); // arrived in the same read as the pause: kept in order
            return;
        }
        consume(data);
        if (data.hasRemaining() && c.isOpen()) {
            held = append(ByteBuffer.allocate(data.remaining()), data);
            pause();
        }
    }

    /** Splits lines out of {@code data}; stops (leaving the rest) when the flood budget is spent. */
    private void consume(ByteBuffer data) {
        while (data.hasRemaining() && connection.isOpen()) {
            if (lineLength == 0 && !skipping && !takeToken()) {
                return;
            }
            byte b = data.get();
            if (b == '\n') {
                if (skipping) {
                    skipping = false;
                    continue;
                }
                int n = lineLength;
                if (n > 0 && line[n - 1] == '\r') {
                    n--;
                }
                lineLength = 0;
                if (n > maxLine) {
                    tooLong();
                } else {
                    onLine(new String(line == null ? new byte[0] : line, 0, n, StandardCharsets.UTF_8));
                }
                continue;
            }
            if (skipping) {
                continue;
            }
            if (line == null) {
                line = new byte[maxLine + 1];
            }
            if (lineLength == line.length) {
                lineLength = 0;
                skipping = true; // the rest of this line is dropped as it arrives: no buffering
                tooLong();
                continue;
            }
            line[lineLength++] = b;
        }
    }

    private void tooLong() {
        send("! line too long (limit " + maxLine + " bytes); dropped");
    }

    /** Takes one line's token from the bucket (refilled at --flood-rate, up to --flood-burst). */
    private boolean takeToken() {
        if (settings.floodRate() <= 0) {
            return true;
        }
        long now = System.nanoTime();
        tokens = Math.min(settings.floodBurst(), tokens + (now - refilledAt) * settings.floodRate() / 1e9);
        refilledAt = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** The budget is spent: stop reading until one more line's token has grown, and say so (now and then). */
    private void pause() {
        connection.pauseReading();
        long now = System.nanoTime();
        if (now - warnedAt >= WARN_EVERY) {
            warnedAt = now;
            send("! slow down: at most " + fmt(settings.floodRate()) + " lines a second (bursts of "
                    + settings.floodBurst() + "); your lines are delayed");
        }
        long wait = (long) Math.ceil((1 - tokens) / settings.floodRate() * 1e9);
        try {
            connection.reactor().schedule(Duration.ofNanos(Math.max(wait, 1_000_000)), resume);
        } catch (RejectedExecutionException shuttingDown) {
            connection.close();
        }
    }

    private void resumeAfterPause() {
        if (!connection.isOpen() || held == null) {
            return;
        }
        held.flip();
        consume(held);
        if (held.hasRemaining() && connection.isOpen()) {
            held.compact();
            pause();
            return;
        }
        held = null;
        connection.resumeReading();
    }

    private static ByteBuffer append(ByteBuffer to, ByteBuffer from) {
        if (to.remaining() < from.remaining()) {
            to = ByteBuffer.allocate(to.position() + from.remaining()).put(to.flip());
        }
        return to.put(from);
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    /** Sends FIN and keeps draining input until the peer hangs up or {@link #LINGER} passes (no RST). */
    private void lingerClose() {
        Connection c = connection;
        c.shutdownOutput();
        try {
            c.reactor().schedule(LINGER, c::close);
        } catch (RejectedExecutionException shuttingDown) {
            c.close();
        }
    }

    private void onLine(String raw) {
        String text = ChatRoom.printable(raw);
        if (text.isBlank()) {
            return;
        }
        if (!text.startsWith("/")) {
            room.say(this, text);
            return;
        }
        int space = text.indexOf(' ');
        String command = (space < 0 ? text : text.substring(0, space)).toLowerCase(Locale.ROOT);
        String arg = space < 0 ? "" : text.substring(space + 1).strip();
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
            return;
        }
        // Something stayed queued: the kernel's buffer is full, so count what it holds into the bound. Until then
        // the kernel holds at most its send buffer, which ChatServer sizes within the bound, and no ioctl is paid.
        if (!cut && c.isOpen() && c.queuedBytes() > 0) {
            long held = held(c);
            if (held > c.config().highWatermark()) {
                cutOff(c, held);
            }
        }
    }

    /** What this user has not taken: the connection's queue and the kernel's send queue. */
    private static long held(Connection c) {
        try {
            return c.queuedBytes() + SocketQueues.unsentBytes(c);
        } catch (EpollException e) {
            return c.queuedBytes(); // the socket is going (e.g. reset): the queue alone is what is left
        }
    }

    private void cutOff(Connection c, long held) {
        cut = true;
        room.slowDropped();
        room.leave(this, "was disconnected: not reading (over " + c.config().highWatermark() + " bytes queued)");
        c.closeWith(new SlowClientException(held, c.config().highWatermark()));
    }

    @Override
    public void onWritabilityChanged(Connection c, boolean writable) {
        if (!writable && !cut) {
            cutOff(c, held(c));
        }
    }

    @Override
    public void onIdle(Connection c, IdleState state) {
        send("! idle for " + settings.idleTimeout().toSeconds() + " s; closing");
        room.leave(this, "left (idle)");
        c.close();
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        line = null;
        held = null;
        if (rejected) {
            return; // never joined
        }
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

        SlowClientException(long queued, int bound) { // queued: the connection's queue plus the kernel's
            super(queued + " bytes held (queued and in the kernel's send queue), over the bound of " + bound);
        }
    }
}
