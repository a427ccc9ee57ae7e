//! Pages of a history, newest first: what the control plane lists. Each item has a sequence
//! number; a page ends with the cursor of the next (the last sequence shown), and only the
//! page's items are copied out of the store.

/// What page to list: at most `limit` items with a sequence below `before`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub before: Option<u64>,
    pub limit: usize,
}

/// Items, newest first, and the cursor of the page after them, if there are more.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<u64>,
}

impl PageRequest {
    /// Of the (sequence, key) pairs of every matching item, the keys of this page, newest
    /// first, and the next page's cursor.
    pub fn select<K>(&self, mut found: Vec<(u64, K)>) -> (Vec<K>, Option<u64>) {
        found.retain(|(sequence, _)| self.before.is_none_or(|b| *sequence < b));
        found.sort_unstable_by_key(|(sequence, _)| std::cmp::Reverse(*sequence));
        let more = found.len() > self.limit;
        found.truncate(self.limit);
        let next = if more {
            found.last().map(|(s, _)| *s)
        } else {
            None
        };
        (found.into_iter().map(|(_, k)| k).collect(), next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_go_newest_first_and_end_with_a_cursor() {
        let found: Vec<(u64, char)> = vec![(3, 'c'), (1, 'a'), (5, 'e'), (4, 'd'), (2, 'b')];
        let first = PageRequest {
            before: None,
            limit: 2,
        };
        assert_eq!(first.select(found.clone()), (vec!['e', 'd'], Some(4)));
        let second = PageRequest {
            before: Some(4),
            limit: 2,
        };
        assert_eq!(second.select(found.clone()), (vec!['c', 'b'], Some(2)));
        let last = PageRequest {
            before: Some(2),
            limit: 2,
        };
        assert_eq!(last.select(found), (vec!['a'], None));
    }
}
