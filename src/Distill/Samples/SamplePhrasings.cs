namespace Distill.Samples;

/// <summary>
/// The ways a question is asked and an answer is worded, per problem kind. Several phrasings per side give the
/// teacher a distribution over wordings, so its soft targets carry more than the one reference answer; the
/// vocabulary stays small so a tiny model can learn it. {a}, {b}, {c}, {n} (a name) and {x} (an item) are filled in.
/// </summary>
internal static class SamplePhrasings
{
    public static readonly string[] Names = ["Tom", "Anna", "Sam", "Mia"];

    public static readonly string[] Items = ["apples", "books", "coins", "cats"];

    public static string[] Questions(string kind) => kind switch
    {
        "add" =>
        [
            "What is {a} plus {b}?",
            "What is {a} + {b}?",
            "Add {a} and {b}.",
            "{n} has {a} {x} and gets {b} more. How many {x} does {n} have now?",
            "Can you tell me the sum of {a} and {b}?",
        ],
        "subtract" =>
        [
            "What is {a} minus {b}?",
            "What is {a} - {b}?",
            "Take {b} away from {a}.",
            "{n} has {a} {x} and gives away {b}. How many {x} are left?",
            "Can you tell me the difference between {a} and {b}?",
        ],
        "multiply" =>
        [
            "What is {a} times {b}?",
            "What is {a} * {b}?",
            "Multiply {a} by {b}.",
            "{n} has {a} boxes with {b} {x} in each box. How many {x} are there in all?",
            "Can you tell me the product of {a} and {b}?",
        ],
        "compare" =>
        [
            "Which is larger, {a} or {b}?",
            "Which number is bigger: {a} or {b}?",
            "{n} has {a} {x} and a friend has {b}. What is the larger number?",
            "Tell me the larger of {a} and {b}.",
        ],
        _ => throw new NotSupportedException($"sample phrasings: unknown kind '{kind}'"),
    };

    public static string[] Answers(string kind) => kind switch
    {
        "add" =>
        [
            "{a} plus {b} is {c}.",
            "Adding {a} and {b} gives {c}.",
            "We add {b} to {a} and get {c}.",
            "{a} + {b} = {c}.",
            "Let us add: {a} and {b} make {c}.",
        ],
        "subtract" =>
        [
            "{a} minus {b} is {c}.",
            "Taking {b} from {a} leaves {c}.",
            "We subtract {b} from {a} and get {c}.",
            "{a} - {b} = {c}.",
            "Let us subtract: {a} take away {b} is {c}.",
        ],
        "multiply" =>
        [
            "{a} times {b} is {c}.",
            "Multiplying {a} by {b} gives {c}.",
            "{a} groups of {b} make {c}.",
            "{a} * {b} = {c}.",
            "Let us multiply: {a} and {b} make {c}.",
        ],
        "compare" =>
        [
            "{c} is larger.",
            "The bigger number is {c}.",
            "Comparing {a} and {b}, {c} is larger.",
            "Of {a} and {b}, the larger is {c}.",
        ],
        _ => throw new NotSupportedException($"sample phrasings: unknown kind '{kind}'"),
    };
}
