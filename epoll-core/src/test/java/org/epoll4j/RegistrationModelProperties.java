package org.epoll4j;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.epoll4j.testutil.Pbt.qt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Random sequences of register / change interest / change trigger mode / cancel / close-and-reuse on eventfds, run
 * against a model of what epoll must report. After every step one {@code poll(ZERO)} must deliver exactly the
 * expected registrations: never one that was cancelled or whose fd was closed (and its number reused), always every
 * live one whose eventfd is readable (LEVEL) or has had a new edge since the last wait (EDGE).
 */
@ExtendWith(FdLeakCheck.class)
class RegistrationModelProperties {
    private static final int MAX_FDS = 6;
    private static final Interest[] INTERESTS = {Interest.NONE, Interest.READ, Interest.READ.with(Interest.READ_HANGUP)};

    /** SKIP does nothing: it is what a step shrinks to, so a shrunk counterexample keeps only the steps that matter. */
    enum Kind { SKIP, OPEN, WRITE, DRAIN, REGISTER, INTEREST, MODE, CANCEL, CLOSE_AND_REUSE }

    /**
     * One step. {@code target} picks among the open fds (WRITE, DRAIN, REGISTER, CLOSE_AND_REUSE), the live
     * registrations (INTEREST, MODE) or all registrations made so far (CANCEL), modulo their number; shown as e.g.
     * {@code REGISTER(fd 3, READ, EDGE)} in a shrunk counterexample.
     */
    record Op(Kind kind, int target, int interest, boolean edge) {
        @Override
        public String toString() {
            String mode = edge ? "EDGE" : "LEVEL";
            return switch (kind) {
                case SKIP, OPEN -> kind.name();
                case WRITE, DRAIN, CLOSE_AND_REUSE -> kind + "(fd " + target + ")";
                case REGISTER -> kind + "(fd " + target + ", " + INTERESTS[interest] + ", " + mode + ")";
                case INTEREST -> kind + "(live reg " + target + ", " + INTERESTS[interest] + ")";
                case MODE -> kind + "(live reg " + target + ", " + mode + ")";
                case CANCEL -> kind + "(reg " + target + ")";
            };
        }
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

    /** Up to 45 steps (about 40 that are not SKIPs); shown without the SKIPs. */
    static Gen<List<Op>> ops() {
        Gen<Op> op = Generate.enumValues(Kind.class).zip(integers().between(0, 15),
                integers().between(0, INTERESTS.length - 1), booleans().all(), Op::new);
        return lists().of(op).ofSizeBetween(1, 45).describedAs(ops -> {
            List<Op> steps = ops.stream().filter(o -> o.kind() != Kind.SKIP).collect(Collectors.toList());
            return steps + " (and " + (ops.size() - steps.size()) + " SKIPs)";
        });
    }

    @Test
    @Timeout(300)
    void reactorMatchesTheModel() {
        AtomicInteger examples = new AtomicInteger();
        AtomicInteger reused = new AtomicInteger();
        qt(150, 2_000).forAll(ops()).checkAssert(ops -> {
            Run run = new Run();
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run.execute(ops));
            examples.incrementAndGet();
            if (run.reused) {
                reused.incrementAndGet();
            }
        });
        System.out.println("[property] an fd number was closed and reused in " + reused + " of " + examples
                + " examples");
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
                case SKIP -> {
                }
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
