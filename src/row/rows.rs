//! Many rows in file order, held in chunks.

use std::collections::VecDeque;

/// Rows per chunk: about a megabyte of waiting rows.
const CHUNK: usize = 8192;

/// Rows held in chunks, so that a phase which takes them by value gives each chunk's
/// memory back as soon as it has passed it. A `Vec`'s buffer lives until its last item
/// is taken, so moving a million rows from one stage to the next would hold both stages
/// of all of them at once; here the peak is one stage and a chunk.
#[derive(Debug)]
pub(crate) struct Rows<T> {
    chunks: VecDeque<Vec<T>>,
    len: usize,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows { chunks: VecDeque::new(), len: 0 }
    }
}

impl<T> Rows<T> {
    pub(crate) fn push(&mut self, item: T) {
        match self.chunks.back_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(item),
            _ => {
                // the first chunk grows as a `Vec` does (most files are small); the
                // others are allocated whole
                let mut chunk = if self.chunks.is_empty() { Vec::new() } else { Vec::with_capacity(CHUNK) };
                chunk.push(item);
                self.chunks.push_back(chunk);
            }
        }
        self.len += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }
}

impl<T> FromIterator<T> for Rows<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut rows = Rows::default();
        rows.extend(iter);
        rows
    }
}

impl<T> Extend<T> for Rows<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

impl<T> IntoIterator for Rows<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { chunks: self.chunks, current: Vec::new().into_iter(), left: self.len }
    }
}

/// The rows by value, in order; each chunk is freed once passed.
pub(crate) struct IntoIter<T> {
    chunks: VecDeque<Vec<T>>,
    current: std::vec::IntoIter<T>,
    left: usize,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.current.next() {
                self.left -= 1;
                return Some(item);
            }
            // replacing `current` drops the chunk just passed
            self.current = self.chunks.pop_front()?.into_iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_chunks_and_frees_passed_chunks() {
        let n = 3 * CHUNK + 5;
        let mut rows: Rows<usize> = (0..n).collect();
        assert_eq!(rows.len(), n);
        assert_eq!(rows.chunks.len(), 4);
        assert!(rows.chunks.iter().all(|c| c.len() <= CHUNK));
        for x in rows.iter_mut() {
            *x *= 2;
        }
        assert!(rows.iter().copied().eq((0..n).map(|x| x * 2)));
        let mut it = rows.into_iter();
        assert_eq!(it.len(), n);
        assert!(it.by_ref().take(CHUNK + 1).eq((0..=CHUNK).map(|x| x * 2)));
        // the first chunk is gone once passed; the second is being taken
        assert_eq!(it.chunks.len(), 2);
        assert_eq!(it.len(), n - CHUNK - 1);
        assert!(it.eq((CHUNK + 1..n).map(|x| x * 2)));
        let empty: Rows<u8> = Rows::default();
        assert!(empty.is_empty() && empty.into_iter().next().is_none());
    }
}
