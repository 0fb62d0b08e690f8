"""The example receipt of the receipts API, shared by the OpenAPI docs, tests and benches."""

EXAMPLE_RECEIPT = {
    "transaction_id": "unique_transaction_id",
    "timestamp": "2024-02-07T12:34:56",
    "items": [
        {"product_id": "product_id_1", "quantity": 2, "price": 10.99, "category": "groceries"},
        {"product_id": "product_id_2", "quantity": 1, "price": 5.49, "category": "electronics"},
    ],
    "total_amount": 27.47,
    "nds_amount": 2.47,
    "tips_amount": 3.0,
    "payment_method": "credit_card",
    "place_id": "011",
    "place_name": "Магазин №1",
}
