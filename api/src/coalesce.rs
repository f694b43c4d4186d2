//! How a live page turns a stream of changes into work (applying pushed rows, or reading
//! again): with a leading edge, so the first change is handled at once, and a burst that comes
//! while that work runs, or within a short quiet window after it, is handled as one batch after
//! it. A pure state machine; the browser drives it with its timer and its reads.

use std::time::Duration;

/// The quiet window after each batch in which further changes are gathered into the next.
pub const WINDOW: Duration = Duration::from_millis(100);

/// What the page must do after telling the coalescer something.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// Nothing now.
    Wait,
    /// Handle these changes now (apply them, or read again), then call
    /// [`Coalescer::settled`].
    Run(Vec<T>),
    /// Start a timer of [`WINDOW`] and call [`Coalescer::elapsed`] when it fires.
    StartTimer,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Nothing under way: the next change runs at once.
    #[default]
    Idle,
    /// A batch is being handled (a read in flight).
    Running,
    /// The quiet window after a batch.
    Quiet,
}

/// Gathers changes of type `T` into batches: see the module's header.
#[derive(Debug)]
pub struct Coalescer<T> {
    phase: Phase,
    pending: Vec<T>,
}

impl<T> Default for Coalescer<T> {
    fn default() -> Self {
        Coalescer {
            phase: Phase::Idle,
            pending: Vec::new(),
        }
    }
}

impl<T> Coalescer<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A change arrived.
    pub fn change(&mut self, change: T) -> Step<T> {
        match self.phase {
            Phase::Idle => {
                self.phase = Phase::Running;
                Step::Run(vec![change])
            }
            Phase::Running | Phase::Quiet => {
                self.pending.push(change);
                Step::Wait
            }
        }
    }

    /// The batch of the last [`Step::Run`] is handled (the rows applied, the read answered).
    /// Anything else that ends a read (the page read for another reason) is ignored.
    pub fn settled(&mut self) -> Step<T> {
        match self.phase {
            Phase::Running => {
                self.phase = Phase::Quiet;
                Step::StartTimer
            }
            Phase::Idle | Phase::Quiet => Step::Wait,
        }
    }

    /// The quiet window is over: what arrived since the last batch runs now as one.
    pub fn elapsed(&mut self) -> Step<T> {
        if self.phase != Phase::Quiet {
            return Step::Wait;
        }
        if self.pending.is_empty() {
            self.phase = Phase::Idle;
            Step::Wait
        } else {
            self.phase = Phase::Running;
            Step::Run(std::mem::take(&mut self.pending))
        }
    }

    /// Forgets what was gathered (the page follows something else now, or reads everything).
    pub fn reset(&mut self) {
        self.phase = Phase::Idle;
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_change_runs_at_once() {
        let mut c = Coalescer::new();
        assert_eq!(c.change(1), Step::Run(vec![1]));
        assert_eq!(c.settled(), Step::StartTimer);
        // Nothing came during the window: back to idle, and the next change runs at once again.
        assert_eq!(c.elapsed(), Step::Wait);
        assert_eq!(c.change(2), Step::Run(vec![2]));
    }

    #[test]
    fn a_burst_during_the_work_and_the_window_runs_as_one_batch_after_it() {
        let mut c = Coalescer::new();
        assert_eq!(c.change(1), Step::Run(vec![1]));
        // While the read is in flight.
        assert_eq!(c.change(2), Step::Wait);
        assert_eq!(c.change(3), Step::Wait);
        assert_eq!(c.settled(), Step::StartTimer);
        // Within the quiet window.
        assert_eq!(c.change(4), Step::Wait);
        assert_eq!(c.elapsed(), Step::Run(vec![2, 3, 4]));
        assert_eq!(c.settled(), Step::StartTimer);
        assert_eq!(c.elapsed(), Step::Wait);
        assert_eq!(c.change(5), Step::Run(vec![5]));
    }

    #[test]
    fn reads_for_other_reasons_and_stray_timers_change_nothing() {
        let mut c = Coalescer::<u8>::new();
        // A read that the coalescer did not start (the page's own input changed).
        assert_eq!(c.settled(), Step::Wait);
        assert_eq!(c.elapsed(), Step::Wait);
        assert_eq!(c.change(1), Step::Run(vec![1]));
        // A timer from before cannot cut the running batch short.
        assert_eq!(c.elapsed(), Step::Wait);
        assert_eq!(c.change(2), Step::Wait);
        assert_eq!(c.settled(), Step::StartTimer);
        assert_eq!(c.settled(), Step::Wait, "settled twice starts one timer");
        assert_eq!(c.elapsed(), Step::Run(vec![2]));
    }

    #[test]
    fn a_reset_forgets_the_gathered_changes() {
        let mut c = Coalescer::new();
        assert_eq!(c.change(1), Step::Run(vec![1]));
        assert_eq!(c.change(2), Step::Wait);
        c.reset();
        assert_eq!(c.elapsed(), Step::Wait);
        assert_eq!(c.change(3), Step::Run(vec![3]));
    }
}
