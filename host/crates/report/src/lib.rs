//! The report room: dataset bias statistics (the paper's table), plots and run reports.
