import ArchiveStore
import Exporters

/// The store is what exports read. Declared here, where both modules meet, so that neither the store
/// knows about exports nor the exporters about SQLite.
extension ArchiveStore: ExportSource {}
