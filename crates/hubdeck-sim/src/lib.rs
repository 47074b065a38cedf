//! hubdeck's demo fleet.
