package org.epoll4j.examples.chat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Everyone in the chat, across all reactors: the registry of nicknames and the broadcast. Thread-safe: sessions on
 * different reactor threads join, rename, leave and broadcast at the same time. Each line is delivered on the
 * recipient's own reactor thread ({@link ChatSession#deliver}), so a session's output is only ever touched there.
 */
final class ChatRoom {
    /** What a nickname may be: 1 to 16 letters, digits, '_' or '-' (nothing a terminal could misread). */
    static final Pattern NICK = Pattern.compile("[A-Za-z0-9_-]{1,16}");

    // Keyed by the lower-cased nick: "Bob" and "bob" are the same person to readers. Only for names: during a
    // rename a session is briefly under both its names, so broadcasts and /who go by the set below instead.
    private final Map<String, ChatSession> members = new ConcurrentHashMap<>();
    /** Everyone in the room, each once. */
    private final java.util.Set<ChatSession> sessions = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicInteger users = new java.util.concurrent.atomic.AtomicInteger();
    private final int maxUsers;

    ChatRoom() {
        this(Integer.MAX_VALUE);
    }

    /** @param maxUsers the most users at once ({@code --max-users}) */
    ChatRoom(int maxUsers) {
        this.maxUsers = maxUsers;
    }
    private final AtomicLong guests = new AtomicLong();
    private final LongAdder connections = new LongAdder();
    private final LongAdder relayed = new LongAdder();
    private final LongAdder slowDropped = new LongAdder();

    private static String key(String nick) {
        return nick.toLowerCase(Locale.ROOT);
    }

    /**
     * Adds a newcomer under a fresh guest name and tells the others.
     *
     * @return false if the room is full ({@code --max-users}): the caller turns the user away
     */
    boolean join(ChatSession s) {
        connections.increment();
        if (users.incrementAndGet() > maxUsers) {
            users.decrementAndGet();
            return false;
        }
        String nick;
        do {
            nick = "guest" + guests.incrementAndGet();
            s.nick = nick; // before it is visible to who() on other threads
        } while (members.putIfAbsent(key(nick), s) != null); // someone may have renamed themselves guestN
        sessions.add(s);
        s.send("* welcome, you are " + nick + "; commands: /nick NAME, /who, /quit");
        broadcast(s, "* " + nick + " joined");
        return true;
    }

    /**
     * Renames {@code s}, or explains why not.
     *
     * @return {@code null} on success, else the error line for the user
     */
    String rename(ChatSession s, String wanted) {
        if (!NICK.matcher(wanted).matches()) {
            return "! invalid nick '" + printable(wanted) + "': 1-16 letters, digits, '_' or '-'";
        }
        String old = s.nick;
        if (wanted.equals(old)) {
            return null;
        }
        if (!key(wanted).equals(key(old))) {
            if (members.putIfAbsent(key(wanted), s) != null) {
                return "! nick '" + wanted + "' is taken";
            }
            members.remove(key(old), s);
        }
        s.nick = wanted;
        broadcast(s, "* " + old + " is now known as " + wanted);
        return null;
    }

    /** Removes {@code s} (idempotent) and tells the others why it left. */
    void leave(ChatSession s, String how) {
        if (sessions.remove(s)) {
            members.remove(key(s.nick), s);
            users.decrementAndGet();
            broadcast(s, "* " + s.nick + " " + how);
        }
    }

    /** Sends a chat line from {@code s} to everyone else. */
    void say(ChatSession s, String text) {
        relayed.increment();
        broadcast(s, "<" + s.nick + "> " + text);
    }

    /** The sorted list of nicknames. */
    String who() {
        List<String> nicks = new ArrayList<>();
        for (ChatSession s : sessions) {
            nicks.add(s.nick);
        }
        nicks.sort(String.CASE_INSENSITIVE_ORDER);
        return "* online (" + nicks.size() + "): " + String.join(", ", nicks);
    }

    /** A slow client was cut off (counted for the summary). */
    void slowDropped() {
        slowDropped.increment();
    }

    /** Everyone currently in the room (a snapshot; for tests and the summary). */
    List<ChatSession> members() {
        return new ArrayList<>(sessions);
    }

    /** The one-line summary printed at shutdown. */
    String summary() {
        return connections.sum() + " connections, " + relayed.sum() + " messages relayed, " + slowDropped.sum()
                + " slow clients disconnected";
    }

    /** Encodes once, then hands the same bytes to every recipient except {@code from}. */
    private void broadcast(ChatSession from, String line) {
        byte[] bytes = (line + "\r\n").getBytes(StandardCharsets.UTF_8);
        for (ChatSession to : sessions) {
            if (to != from) {
                to.deliver(bytes);
            }
        }
    }

    /**
     * Replaces what could make a terminal or a reader misread the text: control characters (C0, DEL, C1; tab is
     * kept), format characters (Unicode category Cf: bidi overrides and isolates such as U+202E and U+2066..2069,
     * zero-width spaces and joiners, the BOM, language tags) and the line and paragraph separators (U+2028/9), each
     * with {@code ?}. A zero-width joiner inside an emoji sequence goes too: the parts then show side by side.
     */
    static String printable(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            int type = Character.getType(cp);
            boolean bad = (Character.isISOControl(cp) && cp != '\t') || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
            if (bad && b == null) {
                b = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (b != null) {
                if (bad) {
                    b.append('?');
                } else {
                    b.appendCodePoint(cp);
                }
            }
            i += n;
        }
        return b == null ? s : b.toString();
    }
}
