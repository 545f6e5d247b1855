package org.epoll4j;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random sequences of register / change interest / change trigger mode / cancel / close-and-reuse on eventfds, run
 * against a model of what epoll must report. After every step one {@code poll(ZERO)} must deliver exactly the
 * expected registrations: never one that was cancelled or whose fd was closed (and its number reused), always every
 * live one whose eventfd is readable (LEVEL) or has had a new edge since the last wait (EDGE).
 */
@AddLifecycleHook(FdLeakCheck.class)
class RegistrationModelProperties {
    private static final int MAX_FDS = 6;
    private static final Interest[] INTERESTS = {Interest.NONE, Interest.READ, Interest.READ.with(Interest.READ_HANGUP)};

    enum Kind { OPEN, WRITE, DRAIN, REGISTER, INTEREST, MODE, CANCEL, CLOSE_AND_REUSE }

    record Op(Kind kind, int target, int interest, boolean edge) {
    }

    enum State { LIVE, CANCELLED, ORPHANED, SUPERSEDED, REACTOR_CLOSED }

    static final class FdModel {
        final int fd;
        boolean readable;
        Reg reg;

        FdModel(int fd) {
            this.fd = fd;
        }
    }

    static final class Reg implements Handler {
        final FdModel fdModel;
        final int fdNumber;
        final List<Reg> delivered;
        Registration registration;
        Interest interest;
        TriggerMode mode;
        boolean pendingEdge;
        State state = State.LIVE;
        int closedCalls;
        Throwable closeCause;

        Reg(FdModel fdModel, List<Reg> delivered) {
            this.fdModel = fdModel;
            this.fdNumber = fdModel.fd;
            this.delivered = delivered;
        }

        @Override
        public void onReady(Registration r, Ready ready) {
            delivered.add(this);
        }

        @Override
        public void onClosed(Registration r, Throwable cause) {
            closedCalls++;
            closeCause = cause;
        }

        boolean expectEvent() {
            return state == State.LIVE && fdModel.readable && interest.isRead()
                    && (mode == TriggerMode.LEVEL || pendingEdge);
        }

        @Override
        public String toString() {
            return "Reg[fd=" + fdNumber + ", " + interest + ", " + mode + ", " + state + "]";
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.of(Kind.class),
                Arbitraries.integers().between(0, 15),
                Arbitraries.integers().between(0, INTERESTS.length - 1),
                Arbitraries.of(true, false)).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 150)
    void reactorMatchesTheModel(@ForAll("ops") List<Op> ops) {
        Run run = new Run();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run.execute(ops));
        Statistics.label("an fd number was closed and reused").collect(run.reused);
    }

    private static final class Run {
        final List<FdModel> fds = new ArrayList<>();
        final List<Reg> regs = new ArrayList<>();
        final List<Reg> delivered = new ArrayList<>();
        boolean reused;

        void execute(List<Op> ops) throws Exception {
            try (Reactor reactor = Reactor.open()) {
                open();
                for (Op op : ops) {
                    apply(reactor, op);
                    delivered.clear();
                    reactor.poll(Duration.ZERO);
                    check(reactor, op);
                }
            } finally {
                fds.forEach(f -> LibC.close(f.fd));
            }
            for (Reg r : regs) {
                assertEquals(1, r.closedCalls, () -> r + " onClosed calls");
                if (r.state == State.LIVE || r.state == State.ORPHANED) {
                    assertInstanceOf(ClosedReactorException.class, r.closeCause);
                }
            }
        }

        void open() {
            fds.add(new FdModel(Fds.eventfd()));
        }

        FdModel pickFd(Op op) {
            return fds.get(op.target() % fds.size());
        }

        Reg pickLive(Op op) {
            List<Reg> live = regs.stream().filter(r -> r.state == State.LIVE).collect(Collectors.toList());
            return live.isEmpty() ? null : live.get(op.target() % live.size());
        }

        void apply(Reactor reactor, Op op) throws Exception {
            switch (op.kind()) {
                case OPEN -> {
                    if (fds.size() < MAX_FDS) {
                        open();
                    }
                }
                case WRITE -> {
                    FdModel f = pickFd(op);
                    Fds.signal(f.fd, 1);
                    f.readable = true;
                    if (f.reg != null && f.reg.interest.isRead()) {
                        f.reg.pendingEdge = true;
                    }
                }
                case DRAIN -> {
                    FdModel f = pickFd(op);
                    Fds.drain(f.fd);
                    f.readable = false;
                }
                case REGISTER -> register(reactor, op);
                case INTEREST -> {
                    Reg r = pickLive(op);
                    if (r != null) {
                        Interest next = INTERESTS[op.interest()];
                        assertEquals(r.registration, r.registration.interest(next));
                        if (next != r.interest) {
                            r.interest = next;
                            r.pendingEdge |= r.fdModel.readable && next.isRead(); // MOD re-polls the fd
                        }
                    }
                }
                case MODE -> {
                    Reg r = pickLive(op);
                    if (r != null) {
                        TriggerMode next = op.edge() ? TriggerMode.EDGE : TriggerMode.LEVEL;
                        r.registration.triggerMode(next);
                        if (next != r.mode) {
                            r.mode = next;
                            r.pendingEdge |= r.fdModel.readable && r.interest.isRead();
                        }
                    }
                }
                case CANCEL -> {
                    if (!regs.isEmpty()) {
                        Reg r = regs.get(op.target() % regs.size());
                        int before = r.closedCalls;
                        r.registration.cancel();
                        if (r.state == State.LIVE || r.state == State.ORPHANED) {
                            if (r.state == State.LIVE) {
                                r.fdModel.reg = null;
                            }
                            r.state = State.CANCELLED;
                            assertEquals(before + 1, r.closedCalls);
                            assertNull(r.closeCause);
                        } else {
                            assertEquals(before, r.closedCalls, "cancel() of an ended registration");
                        }
                    }
                }
                case CLOSE_AND_REUSE -> {
                    FdModel f = pickFd(op);
                    LibC.close(f.fd);
                    fds.remove(f);
                    if (f.reg != null) {
                        f.reg.state = State.ORPHANED; // closed without cancel(): still "valid" until reuse is seen
                    }
                    FdModel fresh = new FdModel(Fds.eventfd());
                    reused |= fresh.fd == f.fd;
                    fds.add(fresh);
                }
            }
        }

        void register(Reactor reactor, Op op) throws Exception {
            FdModel f = pickFd(op);
            Interest interest = INTERESTS[op.interest()];
            TriggerMode mode = op.edge() ? TriggerMode.EDGE : TriggerMode.LEVEL;
            Reg r = new Reg(f, delivered);
            if (f.reg != null) {
                EpollException e = assertThrows(EpollException.class,
                        () -> reactor.register(f.fd, interest, mode, r));
                assertEquals(Errno.EEXIST, e.errno());
                return;
            }
            r.registration = reactor.register(f.fd, interest, mode, r);
            r.interest = interest;
            r.mode = mode;
            r.pendingEdge = f.readable && interest.isRead();
            f.reg = r;
            for (Reg old : regs) {
                if (old.state == State.ORPHANED && old.fdNumber == f.fd) {
                    old.state = State.SUPERSEDED;
                    assertEquals(1, old.closedCalls, () -> old + " must end when its fd number is reused");
                    assertEquals(Errno.EBADF, assertInstanceOf(EpollException.class, old.closeCause).errno());
                    assertTrue(!old.registration.isValid());
                }
            }
            regs.add(r);
        }

        void check(Reactor reactor, Op op) {
            Map<Reg, Integer> got = new IdentityHashMap<>();
            for (Reg r : delivered) {
                got.merge(r, 1, Integer::sum);
            }
            Set<Reg> expected = regs.stream().filter(Reg::expectEvent).collect(Collectors.toSet());
            for (Reg r : got.keySet()) {
                assertEquals(State.LIVE, r.state, () -> "event delivered to " + r + " after " + op);
                assertEquals(1, got.get(r), () -> r + " got several events in one wait");
            }
            assertEquals(expected, got.keySet(), () -> "after " + op);
            regs.forEach(r -> r.pendingEdge = false);
            long valid = regs.stream().filter(r -> r.state == State.LIVE || r.state == State.ORPHANED).count();
            assertEquals(valid, reactor.stats().registrations());
        }
    }
}
