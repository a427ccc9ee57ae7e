//! The timeline of background work: results that become due and callback attempts, ordered by
//! due time on the sandbox clock. Nothing here runs on the request path: handlers only push.
//!
//! One worker task pops due jobs in due order. Settling a resource is synchronous and runs
//! inline, so every id and reference it draws is drawn in the same order on every run (with
//! `--seed`, byte-for-byte reproducible results); a delivery attempt is spawned (unless its
//! target's connection failed lately: that one fails inline, without connecting), so a slow
//! callback receiver never holds up anything else, and at most `--callback-concurrency`
//! attempts run at once (the rest wait their turn, in due order), so a second's results
//! falling due never floods the runtime that answers requests. With a virtual clock nothing
//! becomes due until the clock is advanced; the advance then waits, through
//! [`Scheduler::wait_idle`], until everything due has run.
//!
//! Locking rule: the request path takes no lock. `schedule` sends the job down an unbounded
//! channel and counts it, and wakes the worker only if the job falls due before its timer;
//! the timelines behind the `queue` mutex are touched only by the worker and the control plane
//! (`pending`, `wait_idle`, `clear`), which first move what was sent into them. The mutex is
//! never held across `.await`; jobs run after it is released.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::kinds::ResourceKind;

/// How many due jobs the worker runs before it lets other tasks in.
const BATCH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Job {
    /// A pending resource's result falls due (`service::resource::Resource::settle`).
    Settle(ResourceKind, Uuid),
    /// A resource's wait ran out: an STK prompt nobody answered.
    Expire(ResourceKind, Uuid),
    /// Make the next delivery attempt of a callback.
    Deliver(Uuid),
    /// Run a scenario's timeline moment.
    Moment(Uuid),
}

#[derive(Debug)]
struct Entry {
    due_ms: i64,
    /// Ties on `due_ms` run in the order they were scheduled.
    seq: u64,
    job: Job,
}

/// One timeline per tenant: a job is due on its tenant's clock, which may run ahead.
struct Queue {
    timelines: HashMap<String, Timeline>,
    /// Jobs scheduled and not yet in a timeline.
    sent: mpsc::UnboundedReceiver<(String, Entry)>,
}

impl Queue {
    fn len(&self) -> usize {
        self.timelines.values().map(|t| t.len).sum()
    }
}

/// A tenant's jobs by the millisecond they fall due, each millisecond's in the order they
/// came. Under load most of a second's jobs fall due in the same order they were scheduled
/// (a result a second after its request): adding one appends it to its millisecond's
/// bucket, and what is due is taken a bucket at a time. (A binary heap of a few hundred
/// thousand retries, with a receiver that was down, took a cache miss per level for every
/// job pushed and popped: popping a burst of due jobs held the worker for 25 ms.)
#[derive(Default)]
struct Timeline {
    buckets: BTreeMap<i64, Vec<(u64, Job)>>,
    len: usize,
}

impl Timeline {
    fn push(&mut self, entry: Entry) {
        self.buckets
            .entry(entry.due_ms)
            .or_default()
            .push((entry.seq, entry.job));
        self.len += 1;
    }

    /// When the first job falls due.
    fn next_due_ms(&self) -> Option<i64> {
        self.buckets.first_key_value().map(|(due_ms, _)| *due_ms)
    }

    /// Moves every job due by `now_ms` into `due`, with its due time less `offset_ms`.
    fn take_due(&mut self, now_ms: i64, offset_ms: i64, due: &mut Vec<(i64, u64, Job)>) {
        while let Some(bucket) = self.buckets.first_entry() {
            if *bucket.key() > now_ms {
                break;
            }
            let due_ms = *bucket.key() - offset_ms;
            let jobs = bucket.remove();
            self.len -= jobs.len();
            due.extend(jobs.into_iter().map(|(seq, job)| (due_ms, seq, job)));
        }
    }
}

#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    send: mpsc::UnboundedSender<(String, Entry)>,
    /// Jobs sent and not yet moved into a timeline: counted before the send, so a job is always
    /// seen somewhere by `is_idle`.
    unsorted: AtomicUsize,
    next_seq: AtomicU64,
    /// Jobs popped and not yet finished: counted before the queue is released.
    in_flight: AtomicUsize,
    queue: Mutex<Queue>,
    /// Wakes the worker: a job due before it would wake anyway was pushed, or the clock moved.
    wake: Notify,
    /// When the worker's timer wakes it, in milliseconds after `started`; 0 while it runs.
    wakes_at_ms: AtomicU64,
    started: tokio::time::Instant,
    /// Wakes `wait_idle` callers: a job finished or the worker found nothing due.
    progress: Notify,
}

impl Scheduler {
    pub fn new(clock: Clock) -> Self {
        let (send, sent) = mpsc::unbounded_channel();
        Self {
            inner: Arc::new(Inner {
                clock,
                send,
                unsorted: AtomicUsize::new(0),
                next_seq: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                queue: Mutex::new(Queue {
                    timelines: HashMap::new(),
                    sent,
                }),
                wake: Notify::new(),
                wakes_at_ms: AtomicU64::new(0),
                started: tokio::time::Instant::now(),
                progress: Notify::new(),
            }),
        }
    }

    /// The timelines, with every job sent so far moved into them.
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding this lock cannot leave a timeline half-updated (a job is in
        // it or not), so a poisoned lock is still consistent.
        let mut q = self
            .inner
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Ok((tenant, entry)) = q.sent.try_recv() {
            q.timelines.entry(tenant).or_default().push(entry);
            self.inner.unsorted.fetch_sub(1, Ordering::AcqRel);
        }
        q
    }

    /// Schedules `job` of `tenant` to run `after` from now on that tenant's clock. Lock-free;
    /// wakes the worker only for a job due before its timer: with a steady delay (a result a
    /// second after its request) a new job falls due after those queued, and the worker is
    /// not woken per request.
    pub fn schedule(&self, job: Job, tenant: &str, after: Duration) {
        let due_ms = self
            .inner
            .clock
            .now_ms_of(tenant)
            .saturating_add(crate::clock::millis(after));
        let seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        self.inner.unsorted.fetch_add(1, Ordering::SeqCst);
        if self
            .inner
            .send
            .send((tenant.to_string(), Entry { due_ms, seq, job }))
            .is_err()
        {
            // The receiver lives in `inner` as long as the sender: this cannot happen.
            self.inner.unsorted.fetch_sub(1, Ordering::AcqRel);
        }
        let due_in_ms = crate::clock::millis(self.inner.started.elapsed() + after);
        // SeqCst, against the worker's store of its wake-up and load of `unsorted`: either it
        // sees this job unsorted, or this sees its wake-up.
        if u64::try_from(due_in_ms).unwrap_or(0) < self.inner.wakes_at_ms.load(Ordering::SeqCst) {
            self.inner.wake.notify_one();
        }
    }

    /// Tells the worker the clock moved.
    pub fn clock_moved(&self) {
        self.inner.wake.notify_one();
    }

    /// Drops every queued job (a reset); jobs already running finish.
    pub fn clear(&self) {
        self.queue().timelines.clear();
    }

    /// Number of jobs queued or running.
    pub fn pending(&self) -> usize {
        let q = self.queue();
        q.len()
            + self.inner.unsorted.load(Ordering::Acquire)
            + self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Every job due on its tenant's clock, in due order on the shared clock (then in
    /// scheduling order): one tenant's jobs keep their own due order.
    fn pop_due(&self) -> Vec<Job> {
        let clock = &self.inner.clock;
        let mut q = self.queue();
        let mut due: Vec<(i64, u64, Job)> = Vec::new();
        for (tenant, timeline) in &mut q.timelines {
            let offset = clock.tenant_offset_ms(tenant);
            timeline.take_due(clock.now_ms() + offset, offset, &mut due);
        }
        // In order already but where tenants meet or two requests' jobs crossed on the way.
        due.sort_by_key(|(at, seq, _)| (*at, *seq));
        self.inner.in_flight.fetch_add(due.len(), Ordering::AcqRel);
        due.into_iter().map(|(_, _, job)| job).collect()
    }

    /// How long until the next job falls due, on its tenant's clock.
    fn next_wait_ms(&self) -> Option<i64> {
        let clock = &self.inner.clock;
        let q = self.queue();
        q.timelines
            .iter()
            .filter_map(|(tenant, timeline)| {
                timeline
                    .next_due_ms()
                    .map(|due_ms| due_ms - clock.now_ms_of(tenant))
            })
            .min()
    }

    /// `n` jobs ran to the end (none: nothing to tell). A follow-up a job scheduled has woken
    /// the worker already (`schedule` does).
    fn finish(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.inner.in_flight.fetch_sub(n, Ordering::AcqRel);
        self.inner.progress.notify_waiters();
    }

    fn is_idle(&self) -> bool {
        let clock = &self.inner.clock;
        let q = self.queue();
        self.inner.in_flight.load(Ordering::Acquire) == 0
            && self.inner.unsorted.load(Ordering::Acquire) == 0
            && q.timelines.iter().all(|(tenant, timeline)| {
                timeline
                    .next_due_ms()
                    .is_none_or(|due_ms| due_ms > clock.now_ms_of(tenant))
            })
    }

    /// Whether a job runs, or falls due within `window` on its tenant's clock: work that
    /// finishing up (`k2-sandbox run` settling) should wait for.
    pub fn busy_within(&self, window: Duration) -> bool {
        self.inner.in_flight.load(Ordering::Acquire) > 0
            || self.inner.unsorted.load(Ordering::Acquire) > 0
            || self
                .next_wait_ms()
                .is_some_and(|ms| ms <= crate::clock::millis(window))
    }

    /// Resolves once nothing is due and nothing runs, or after `limit`. Returns whether idle.
    /// This is how tests and clock advances wait for results and callbacks without sleeping.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let progressed = self.inner.progress.notified();
                tokio::pin!(progressed);
                progressed.as_mut().enable();
                if self.is_idle() {
                    return;
                }
                self.inner.wake.notify_one();
                progressed.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }

    /// The worker loop until `shutdown` resolves: `execute` runs each due job, doing
    /// synchronous work inline and returning the asynchronous rest, which is spawned; at
    /// most `concurrency` of those run at once, the others wait in due order. Settling never
    /// waits for a slot: a slow receiver delays callbacks, never results.
    // Over 60 lines: the worker's loop, its wake-up protocol (enable, publish, look again,
    // select) kept in one place to be read in order.
    pub async fn run<F, Fut>(
        self,
        execute: F,
        concurrency: usize,
        shutdown: impl Future<Output = ()>,
    ) where
        F: Fn(Job) -> Option<Fut>,
        Fut: Future<Output = ()> + Send + 'static,
    {
        tokio::pin!(shutdown);
        let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut waiting: VecDeque<Fut> = VecDeque::new();
        // One timer, reset each round, rather than a new one per round.
        let sleep = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(sleep);
        loop {
            let woken = self.inner.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            // Awake: what is scheduled meanwhile is seen below, without a wake-up.
            self.inner.wakes_at_ms.store(0, Ordering::SeqCst);

            // A second's worth of results can fall due at once: run them in bounded batches,
            // letting requests in between, so a burst never stalls the server.
            let mut settled = 0;
            for (n, job) in self.pop_due().into_iter().enumerate() {
                match execute(job) {
                    None => settled += 1,
                    Some(fut) => waiting.push_back(fut),
                }
                if (n + 1) % BATCH == 0 {
                    self.finish(std::mem::take(&mut settled));
                    self.start(&slots, &mut waiting);
                    tokio::task::yield_now().await;
                    // What requests scheduled meanwhile goes into the timelines now, a
                    // batch's worth at a time: left for after a burst, a burst's worth of
                    // jobs moved at once held the worker for 10-16 ms.
                    drop(self.queue());
                }
            }
            self.finish(settled);
            self.start(&slots, &mut waiting);
            self.inner.progress.notify_waiters();

            let (due_now, wakes_at) = self.next_wake();
            if self.inner.unsorted.load(Ordering::SeqCst) > 0 {
                // Sent after `next_wait_ms` looked, perhaps before the store: look again.
                continue;
            }
            if !due_now {
                sleep.as_mut().reset(wakes_at);
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = &mut woken => {}
                () = &mut sleep, if !due_now => {}
                () = tokio::task::yield_now(), if due_now => {}
                Ok(slot) = slots.clone().acquire_owned(), if !waiting.is_empty() => {
                    if let Some(fut) = waiting.pop_front() {
                        self.spawn(fut, slot);
                    }
                }
            }
        }
    }

    /// When the worker wakes next, published for schedulers to compare with (a job due
    /// before it wakes the worker): on real time when the next job is due; a virtual clock
    /// only moves when advanced, which wakes it. A job due already (sent while the worker ran,
    /// without waking it) runs once the requests waiting now have had their turn, not a tick
    /// later: then the first is true.
    fn next_wake(&self) -> (bool, tokio::time::Instant) {
        let next_wait_ms = self.next_wait_ms();
        let due_now = next_wait_ms.is_some_and(|wait| wait <= 0);
        let sleep_for = match next_wait_ms {
            Some(wait) if !self.inner.clock.is_virtual() => {
                Duration::from_millis(wait.max(0) as u64)
            }
            _ => Duration::from_secs(3600),
        };
        let wakes_at = tokio::time::Instant::now() + sleep_for;
        let wakes_at_ms = crate::clock::millis(wakes_at - self.inner.started);
        self.inner
            .wakes_at_ms
            .store(u64::try_from(wakes_at_ms).unwrap_or(0), Ordering::SeqCst);
        (due_now, wakes_at)
    }

    /// Spawns waiting jobs while slots are free.
    fn start<Fut>(&self, slots: &Arc<tokio::sync::Semaphore>, waiting: &mut VecDeque<Fut>)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        while !waiting.is_empty() {
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                return;
            };
            if let Some(fut) = waiting.pop_front() {
                self.spawn(fut, slot);
            }
        }
    }

    /// Runs `fut` holding `slot`; the job is finished when it ends.
    fn spawn<Fut>(&self, fut: Fut, slot: tokio::sync::OwnedSemaphorePermit)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let this = self.clone();
        tokio::spawn(async move {
            fut.await;
            drop(slot);
            this.finish(1);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A worker that records the jobs it runs, after handing each to `also`.
    struct Worker {
        ran: Arc<Mutex<Vec<Job>>>,
        stop: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Worker {
        fn start(scheduler: &Scheduler, also: impl Fn(Job) + Send + Sync + 'static) -> Self {
            let ran = Arc::new(Mutex::new(Vec::new()));
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let log = ran.clone();
            let task = tokio::spawn(scheduler.clone().run(
                move |job| {
                    log.lock().expect("lock").push(job);
                    also(job);
                    None::<std::future::Ready<()>>
                },
                1,
                async move {
                    let _ = stopped.await;
                },
            ));
            Self { ran, stop, task }
        }

        fn ran(&self) -> Vec<Job> {
            self.ran.lock().expect("lock").clone()
        }

        /// Waits until `n` jobs ran (at most 5 s), by looking rather than through
        /// `wait_idle`, which wakes the worker itself.
        async fn ran_within(&self, n: usize) -> Vec<Job> {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while self.ran().len() < n && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            self.ran()
        }

        async fn stop(self) {
            let _ = self.stop.send(());
            self.task.await.expect("worker ends");
        }
    }

    #[tokio::test]
    async fn virtual_jobs_run_in_due_order_only_once_the_clock_reaches_them() {
        let clock = Clock::frozen_at(chrono::Utc::now());
        let scheduler = Scheduler::new(clock.clone());
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        scheduler.schedule(Job::Deliver(b), "t", Duration::from_secs(2));
        scheduler.schedule(Job::Deliver(a), "t", Duration::from_secs(1));
        let worker = Worker::start(&scheduler, |_| {});

        assert!(scheduler.wait_idle(Duration::from_secs(5)).await);
        assert!(worker.ran().is_empty());

        clock.advance(1_000);
        scheduler.clock_moved();
        assert!(scheduler.wait_idle(Duration::from_secs(5)).await);
        assert_eq!(worker.ran(), vec![Job::Deliver(a)]);

        clock.advance(5_000);
        scheduler.clock_moved();
        assert!(scheduler.wait_idle(Duration::from_secs(5)).await);
        assert_eq!(worker.ran(), vec![Job::Deliver(a), Job::Deliver(b)]);
        assert_eq!(scheduler.pending(), 0);
        worker.stop().await;
    }

    /// The worker is woken only for a job due before its timer: here, set an hour ahead.
    #[tokio::test]
    async fn a_job_due_before_the_workers_timer_wakes_it() {
        let scheduler = Scheduler::new(Clock::real());
        let (later, now) = (Uuid::from_u128(1), Uuid::from_u128(2));
        scheduler.schedule(Job::Deliver(later), "t", Duration::from_secs(3600));
        let worker = Worker::start(&scheduler, |_| {});
        assert!(scheduler.wait_idle(Duration::from_secs(5)).await);
        tokio::time::sleep(Duration::from_millis(20)).await;

        scheduler.schedule(Job::Deliver(now), "t", Duration::ZERO);
        assert_eq!(worker.ran_within(1).await, vec![Job::Deliver(now)]);
        assert_eq!(scheduler.pending(), 1);
        worker.stop().await;
    }

    /// A job that falls due while the worker runs (here: scheduled by the job it runs), which
    /// wakes nobody, runs without a clock move or a `wait_idle`.
    #[tokio::test]
    async fn a_job_due_now_scheduled_while_the_worker_runs_runs() {
        for clock in [Clock::real(), Clock::frozen_at(chrono::Utc::now())] {
            let scheduler = Scheduler::new(clock);
            let (first, second) = (Uuid::from_u128(1), Uuid::from_u128(2));
            scheduler.schedule(Job::Deliver(first), "t", Duration::ZERO);
            let inside = scheduler.clone();
            let worker = Worker::start(&scheduler, move |job| {
                if job == Job::Deliver(first) {
                    inside.schedule(Job::Deliver(second), "t", Duration::ZERO);
                }
            });
            assert_eq!(
                worker.ran_within(2).await,
                vec![Job::Deliver(first), Job::Deliver(second)]
            );
            worker.stop().await;
        }
    }

    #[tokio::test]
    async fn real_time_jobs_run_when_due() {
        let scheduler = Scheduler::new(Clock::real());
        let count = Arc::new(AtomicUsize::new(0));
        scheduler.schedule(Job::Deliver(Uuid::nil()), "t", Duration::from_millis(20));
        let c = count.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(scheduler.clone().run(
            move |_| {
                let c = c.clone();
                Some(async move {
                    c.fetch_add(1, Ordering::SeqCst);
                })
            },
            1,
            async move {
                let _ = stop_rx.await;
            },
        ));
        // Not idle until the job is due and has run.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while count.load(Ordering::SeqCst) == 0 && tokio::time::Instant::now() < deadline {
            scheduler.wait_idle(Duration::from_millis(50)).await;
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let _ = stop_tx.send(());
        worker.await.expect("worker ends");
    }
}
