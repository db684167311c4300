//! The data room: dataset formats in and out, image loading and the synthetic scene world.
