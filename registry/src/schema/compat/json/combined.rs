//! Differences in `allOf`/`anyOf`/`oneOf` and `not`.
//!
//! Two combinations are compared by pairing their members: every member of the original is
//! compared with every member of the update, the compatible pairs form a bipartite graph, and
//! a maximum matching of that graph decides whether the members still line up. Only the
//! differences of matched pairs are reported.

use super::differ::{Acc, Cause, Differ, Outcome};
use super::kinds::Kind;
use super::model::{Criterion, Model, NodeId};

pub(super) fn combined(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    (original_criterion, original): (Criterion, &[NodeId]),
    (update_criterion, update): (Criterion, &[NodeId]),
) {
    if let Some(kind) = criterion_change(
        original_criterion,
        original.len(),
        update_criterion,
        update.len(),
    ) {
        acc.add(kind, &[]);
        if kind == Kind::COMBINED_TYPE_CHANGED {
            return;
        }
    }
    if original.len() < update.len() {
        acc.add(
            if update_criterion == Criterion::All {
                Kind::PRODUCT_TYPE_EXTENDED
            } else {
                Kind::SUM_TYPE_EXTENDED
            },
            &[],
        );
    } else if original.len() > update.len() {
        acc.add(
            if original_criterion == Criterion::All {
                Kind::PRODUCT_TYPE_NARROWED
            } else {
                Kind::SUM_TYPE_NARROWED
            },
            &[],
        );
    }

    let mut edges: Vec<Vec<(usize, Outcome)>> = Vec::with_capacity(original.len());
    for &member in original {
        let mut compatible = Vec::new();
        for (position, &candidate) in update.iter().enumerate() {
            let outcome = differ.compare(member, candidate);
            if outcome.is_compatible() {
                compatible.push((position, outcome));
            }
        }
        edges.push(compatible);
    }
    let adjacency: Vec<Vec<usize>> = edges
        .iter()
        .map(|row| row.iter().map(|(position, _)| *position).collect())
        .collect();
    let matched = maximum_matching(&adjacency, update.len());
    let size = matched.iter().flatten().count();
    let keyword = original_criterion.keyword();
    for (index, (row, partner)) in edges.into_iter().zip(matched).enumerate() {
        for (position, outcome) in row {
            if Some(position) == partner {
                acc.absorb(&[keyword, &index.to_string()], outcome);
            }
        }
    }
    if size < original.len().min(update.len()) {
        let causes = titled_causes(differ, keyword, original, update);
        acc.add_with_causes(Kind::COMBINED_TYPE_SUBSCHEMAS_CHANGED, &[], causes);
    }
}

/// When every member on both sides has a title and no title repeats (Herald's export: one
/// member per event type, titled with it), pairs the members by title and returns the
/// incompatible differences of each pair, under the original member's path. Empty when the
/// members are not titled that way.
fn titled_causes(
    differ: &mut Differ<'_>,
    keyword: &str,
    original: &[NodeId],
    update: &[NodeId],
) -> Vec<Cause> {
    let (Some(before), Some(after)) = (
        titles(differ.original(), original),
        titles(differ.update(), update),
    ) else {
        return Vec::new();
    };
    let mut causes = Vec::new();
    for (index, (&member, title)) in original.iter().zip(before).enumerate() {
        let Some(position) = after.iter().position(|other| *other == title) else {
            continue;
        };
        let outcome = differ.compare(member, update[position]);
        for mut found in outcome.found {
            if found.kind.is_compatible() {
                continue;
            }
            let mut path = vec![keyword.to_owned(), index.to_string()];
            path.append(&mut found.path);
            found.path = path;
            causes.push(Cause {
                title: title.to_owned(),
                found,
            });
        }
    }
    causes
}

/// The titles of `members`, when every one has a title and no two share one.
fn titles<'m>(model: &'m Model, members: &[NodeId]) -> Option<Vec<&'m str>> {
    let titles: Vec<&str> = members
        .iter()
        .map(|&member| {
            model
                .node(model.resolve(member))
                .annotations
                .title
                .as_deref()
        })
        .collect::<Option<_>>()?;
    let mut sorted = titles.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == titles.len()).then_some(titles)
}

/// How the criterion changed. Moving to `anyOf` only widens; moving to `oneOf` widens from
/// a singleton or from `allOf`; moving to `allOf` widens only between singletons.
fn criterion_change(
    original: Criterion,
    original_size: usize,
    update: Criterion,
    update_size: usize,
) -> Option<Kind> {
    if original == update {
        return None;
    }
    let widens = match update {
        Criterion::Any => true,
        Criterion::One => original_size == 1 || original == Criterion::All,
        Criterion::All => original_size == 1 && update_size == 1,
    };
    Some(if widens {
        Kind::COMBINED_TYPE_EXTENDED
    } else {
        Kind::COMBINED_TYPE_CHANGED
    })
}

/// A maximum bipartite matching (augmenting paths), as the update position matched to each
/// original member. Deterministic: members and candidates are tried in document order.
fn maximum_matching(adjacency: &[Vec<usize>], right: usize) -> Vec<Option<usize>> {
    let mut owner: Vec<Option<usize>> = vec![None; right];
    for left in 0..adjacency.len() {
        let mut seen = vec![false; right];
        augment(left, adjacency, &mut owner, &mut seen);
    }
    let mut matched = vec![None; adjacency.len()];
    for (position, left) in owner.iter().enumerate() {
        if let Some(left) = left {
            matched[*left] = Some(position);
        }
    }
    matched
}

fn augment(
    left: usize,
    adjacency: &[Vec<usize>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &right in &adjacency[left] {
        if seen[right] {
            continue;
        }
        seen[right] = true;
        let free = match owner[right] {
            None => true,
            Some(other) => augment(other, adjacency, owner, seen),
        };
        if free {
            owner[right] = Some(left);
            return true;
        }
    }
    false
}

/// `not`: the update must exclude no more than the original did, so the excluded schemas
/// are compared the other way round.
pub(super) fn not(differ: &mut Differ<'_>, acc: &mut Acc, original: NodeId, update: NodeId) {
    let outcome = differ.compare_swapped(update, original);
    let kind = if outcome.is_compatible() {
        Kind::NOT_TYPE_NARROWED
    } else {
        Kind::NOT_TYPE_EXTENDED
    };
    acc.add(kind, &["not"]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn matching_finds_a_perfect_pairing_by_augmenting() {
        // Member 0 fits both candidates, member 1 only the first: 0 must move to 1.
        let matched = maximum_matching(&[vec![0, 1], vec![0]], 2);
        assert_eq!(matched, vec![Some(1), Some(0)]);
    }

    #[test]
    fn criterion_rules() {
        use Criterion::*;
        assert_eq!(
            criterion_change(One, 2, Any, 1),
            Some(Kind::COMBINED_TYPE_EXTENDED)
        );
        assert_eq!(
            criterion_change(Any, 2, One, 1),
            Some(Kind::COMBINED_TYPE_CHANGED)
        );
        assert_eq!(
            criterion_change(All, 2, One, 1),
            Some(Kind::COMBINED_TYPE_EXTENDED)
        );
        assert_eq!(
            criterion_change(Any, 1, All, 2),
            Some(Kind::COMBINED_TYPE_CHANGED)
        );
        assert_eq!(
            criterion_change(Any, 1, All, 1),
            Some(Kind::COMBINED_TYPE_EXTENDED)
        );
        assert_eq!(criterion_change(All, 3, All, 1), None);
    }
}
